/*
 * The CNI plugin's view of its invocation (CNI spec, SPEC.md 0.1.0-1.1.0):
 * the network configuration on stdin (every field of Calico's NetConf, v1.11
 * and v3), the CNI_* environment and CNI_ARGS, and the JSON it answers with:
 * results in the requested version's format, errors, VERSION.
 *
 * Parsing here does no I/O; everything fails with a struct cni_error
 * carrying the spec's code and a message naming the field or variable.
 */
#ifndef PODMESH_CNI_H
#define PODMESH_CNI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "lib/addr.h"

/* Error codes, SPEC.md "Error" (0-99 reserved). */
#define CNI_ERR_INCOMPATIBLE 1 /* incompatible CNI version */
#define CNI_ERR_UNSUPPORTED 2 /* unsupported field */
#define CNI_ERR_UNKNOWN_CONTAINER 3
#define CNI_ERR_ENV 4 /* invalid necessary environment variables */
#define CNI_ERR_IO 5
#define CNI_ERR_DECODE 6
#define CNI_ERR_CONFIG 7 /* invalid network config */
#define CNI_ERR_NETNS 8 /* invalid netns (libcni's ErrInvalidNetNS) */
#define CNI_ERR_TRY_AGAIN 11
#define CNI_ERR_NOT_AVAILABLE 50
#define CNI_ERR_LIMITED 51
/* podmesh's own: no free address (pool exhausted, maxBlocksPerHost, no pool) */
#define CNI_ERR_NO_ADDRESS 100
/* podmesh's own: the address asked for is someone else's */
#define CNI_ERR_ADDRESS_TAKEN 101
#define CNI_ERR_INTERNAL 999 /* libcni's own */

struct cni_error {
	int code;
	char msg[256];
	char details[512]; /* may be empty */
};

enum cni_command {
	CNI_CMD_NONE,
	CNI_CMD_ADD,
	CNI_CMD_DEL,
	CNI_CMD_CHECK,
	CNI_CMD_VERSION,
	CNI_CMD_STATUS,
	CNI_CMD_GC,
};

#define CNI_MAX_POOLS 16

struct cni_ipam {
	char *type; /* calico-ipam, host-local, ... */
	char *subnet;
	bool assign_ipv4; /* "false" turns it off */
	bool assign_ipv6; /* only "true" turns it on */
	struct prefix ipv4_pools[CNI_MAX_POOLS];
	size_t nipv4_pools;
	struct prefix ipv6_pools[CNI_MAX_POOLS];
	size_t nipv6_pools;
};

struct cni_policy {
	char *type; /* "k8s" */
	char *k8s_api_root;
	char *k8s_auth_token;
	char *k8s_client_certificate;
	char *k8s_client_key;
	char *k8s_certificate_authority;
};

struct cni_kubernetes {
	char *kubeconfig;
	char *k8s_api_root;
	char *node_name;
};

/* A parsed network configuration.  Absent strings are NULL. */
struct cni_netconf {
	char *name;
	char *cni_version; /* "0.1.0" when the config has none */
	char *type;
	int mtu; /* 0 = not set */
	char *nodename;
	char *nodename_file;
	char *hostname; /* deprecated alias of nodename */
	char *datastore_type;
	char *etcd_endpoints;
	char *etcd_key_file;
	char *etcd_cert_file;
	char *etcd_ca_cert_file;
	char *log_level;
	char *log_file_path;
	char *ipam_lock_file;
	bool include_default_routes;
	struct cni_ipam ipam;
	struct cni_policy policy;
	struct cni_kubernetes kubernetes;
	json_t *feature_control; /* objects, kept as JSON; NULL if absent */
	json_t *container_settings;
	json_t *prev_result;
	json_t *runtime_config;
	json_t *args;
	json_t *root; /* the whole config, for delegating to IPAM */
};

/* CNI_ARGS: K=V;K=V.  Unknown keys are ignored. */
#define CNI_MAX_ARGS_IPS 2
struct cni_args {
	struct addr ips[CNI_MAX_ARGS_IPS]; /* IP=a[,b] */
	size_t nips;
	char *k8s_pod_namespace;
	char *k8s_pod_name;
	char *k8s_pod_infra_container_id;
};

struct cni_env {
	enum cni_command command;
	char *container_id;
	char *netns;
	char *ifname;
	char *path; /* CNI_PATH as given, ':'-separated */
	struct cni_args args;
};

/* The result of ADD, version-independent. Strings are borrowed. */
#define CNI_MAX_IFACES 4
#define CNI_MAX_IPS 4
#define CNI_MAX_ROUTES 8
#define CNI_MAX_DNS 4

struct cni_iface {
	const char *name;
	const char *mac; /* NULL = omitted */
	const char *sandbox; /* NULL = host side */
	int mtu; /* 0 = omitted; 1.1.0 only */
};

struct cni_ip {
	struct prefix address;
	struct addr gateway; /* family 0 = none */
	int iface; /* index into ifaces, -1 = none */
};

struct cni_route {
	struct prefix dst;
	struct addr gw; /* family 0 = none */
};

struct cni_dns {
	const char *nameservers[CNI_MAX_DNS];
	size_t nnameservers;
	const char *domain;
	const char *search[CNI_MAX_DNS];
	size_t nsearch;
	const char *options[CNI_MAX_DNS];
	size_t noptions;
};

struct cni_result {
	struct cni_iface ifaces[CNI_MAX_IFACES];
	size_t nifaces;
	struct cni_ip ips[CNI_MAX_IPS];
	size_t nips;
	struct cni_route routes[CNI_MAX_ROUTES];
	size_t nroutes;
	struct cni_dns dns;
};

typedef const char *(*cni_getenv_fn)(void *, const char *);

extern const char *const cni_versions[]; /* NULL-terminated, oldest first */

bool cni_version_supported(const char *);
int cni_netconf_parse(
    const void *, size_t, struct cni_netconf *, struct cni_error *);
void cni_netconf_clear(struct cni_netconf *);
int cni_args_parse(const char *, struct cni_args *, struct cni_error *);
void cni_args_clear(struct cni_args *);
int cni_env_parse(cni_getenv_fn, void *, struct cni_env *, struct cni_error *);
void cni_env_clear(struct cni_env *);
const char *cni_command_name(enum cni_command);

void cni_error_set(struct cni_error *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
char *cni_error_encode(const struct cni_error *, const char *);
char *cni_result_encode(
    const struct cni_result *, const char *, struct cni_error *);
char *cni_version_encode(const char *);
/*
 * A result as a plugin printed it (any version: 0.1.0/0.2.0's ip4/ip6 or
 * 0.3.0+'s interfaces/ips/routes/dns) into the version-independent form.
 * Strings are borrowed from the JSON, which must outlive res.  Error 6
 * (decode) naming the field when it does not have the spec's shape.
 */
int cni_result_decode(const json_t *, struct cni_result *, struct cni_error *);

#endif
