/*
 * podmeshctl internals: the command and option tables, the control-socket
 * client (sock.c, used by bgp.c and node_status.c), the datastore
 * configuration and connection (config.c), the resource commands
 * (resource.c, get.c), IPAM (ipam.c; check in
 * ipam_check.c, what deleting a pool does to its blocks in ipam_pool.c),
 * the migration (migrate.c), node status (node_status.c, its rows and
 * printing in status.c) and the table formatter (table.c).  The bgp
 * commands speak the socket protocol of bgp/control.h and never link the
 * daemon's code; the datastore commands go through store/ (etcd v3 client,
 * Calico's resource model).
 *
 * A command group is a table of struct ctl_cmd in its own file, listed in
 * podmeshctl.c's ctl_groups[].  A new group, e.g. `migrate from-etcdv2`
 * (Calico v2.6 over the etcd v2 API), is a new file defining migrate_cmds[]
 * and migrate_ncmds plus one line in ctl_groups[] (its options, rows of
 * podmeshctl.c's ctl_opts[] with a CTL_O_* bit); ctl_dsconfig_get() gives
 * it the endpoints and TLS files from the same configuration.
 */
#ifndef PODMESH_CTL_H
#define PODMESH_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "lib/addr.h"
#include "store/model.h"

#define CTL_DEFAULT_BGPD_SOCKET "/run/podmesh/bgpd.sock"
#define CTL_SOCKET_ENV "PODMESH_BGPD_SOCKET"
#define CTL_CONFIG_PATH "/etc/podmesh/podmeshctl.cfg"
#define CTL_CALICOCTL_PATH "/etc/calico/calicoctl.cfg"
#define CTL_DEFAULT_ENDPOINT "http://127.0.0.1:2379"

enum ctl_output {
	OUTPUT_TABLE, /* aligned columns for people (calicoctl's "ps") */
	OUTPUT_JSON,
	OUTPUT_YAML,
	OUTPUT_WIDE, /* the table with more columns */
};

#define CTL_OUT(o) (1u << (o))

/* options a command takes: bits of ctl_cmd.opts */
#define CTL_O_SOCKET 0x0001 /* -s PATH */
#define CTL_O_CONFIG 0x0002 /* -c FILE: the datastore */
#define CTL_O_FILE 0x0004 /* -f FILE */
#define CTL_O_NAMESPACE 0x0008 /* -n NS */
#define CTL_O_ALLNS 0x0010 /* -A */
#define CTL_O_SHOWBLOCKS 0x0020
#define CTL_O_IP 0x0040 /* --ip IP */
#define CTL_O_FIX 0x0080
#define CTL_O_SKIP_EXISTS 0x0100
#define CTL_O_SKIP_NOT_EXISTS 0x0200
#define CTL_O_APPLY 0x0400 /* migrate: write, not a dry run */
#define CTL_O_FORCE 0x0800
#define CTL_O_V2_ENDPOINTS 0x1000 /* migrate: where etcd v2 is */
#define CTL_O_V2_CA 0x2000
#define CTL_O_V2_CERT 0x4000
#define CTL_O_V2_KEY 0x8000
#define CTL_O_GRACE 0x10000 /* ipam check --fix: seconds between looks */
#define CTL_O_ALLOW_PARTIAL 0x20000 /* a file in several txns */
#define CTL_O_FORCE_IPAM 0x40000 /* migrate: overwrite the IPAM tree */
#define CTL_O_NODE 0x80000 /* ipam assign: --node NODE */
#define CTL_O_HANDLE 0x100000 /* ipam assign, release: --handle ID */
#define CTL_O_POOL 0x200000 /* ipam assign: --pool CIDR, repeatable */
#define CTL_O_IPV6 0x400000 /* ipam assign: an IPv6 address */
#define CTL_O_ATTR 0x800000 /* ipam assign: --attr KEY=VALUE, repeatable */
#define CTL_O_BIRD 0x1000000 /* node status: --bird SOCKET */
#define CTL_MAX_REPEAT 16 /* of --pool, of --attr */

#define CTL_DEFAULT_GRACE 300 /* a pod start: allocation to endpoint */
#define CTL_MAX_GRACE 86400

struct etcd;
struct etcd_kv;
struct etcd_op;
struct ctl_dsconfig;

/* what the command line said, beyond the command words */
struct ctl {
	const char *socket;
	const char *config; /* --config, or NULL: search */
	enum ctl_output output;
	bool output_given;
	const char *file;
	const char *namespace; /* NULL: "default" */
	bool all_namespaces;
	bool show_blocks;
	const char *ip;
	bool fix;
	int grace; /* seconds; CTL_DEFAULT_GRACE unless given */
	bool grace_given;
	bool allow_partial;
	bool force_ipam;
	bool skip_exists;
	bool skip_not_exists;
	bool apply;
	bool force;
	const char *v2_endpoints; /* NULL: from the configuration */
	const char *v2_ca_file;
	const char *v2_cert_file;
	const char *v2_key_file;
	/* ipam assign, ipam release --handle (ipam_assign.c) */
	const char *node;
	const char *handle;
	const char *pools[CTL_MAX_REPEAT];
	size_t npools;
	bool ipv6;
	const char *attrs[CTL_MAX_REPEAT];
	size_t nattrs;
	const char *bird; /* node status --bird SOCKET */
	/* opened on first use by ctl_etcd(), freed by main */
	struct ctl_dsconfig *ds;
	struct etcd *etcd;
};

struct ctl_cmd {
	const char *group; /* "bgp", "get" */
	const char *name; /* "peers"; NULL for a one-word command */
	const char *args; /* for usage: "[PREFIX|ADDRESS]" */
	const char *help;
	int minargs;
	int maxargs;
	unsigned opts; /* CTL_O_* it takes */
	unsigned outputs; /* CTL_OUT() of each -o format it takes; 0: none */
	int (*exec)(struct ctl *, int, char **);
	void (*more_help)(FILE *); /* after the options in its --help */
};

/* bgp.c */
extern const struct ctl_cmd bgp_cmds[];
extern const size_t bgp_ncmds;
json_t *bgp_request(const char *, const char *);

/*
 * sock.c: the unix-socket client of bgp.c and node_status.c.  connect: 0,
 * 1 when nobody is there (no socket or nobody listening; errno says which),
 * -1 after a message.  send: the whole request, 0 or -1 after a message.
 * read: into *bufp (NUL-terminated, the caller frees it) until the peer
 * closes or, when stop is given, until stop(buf, len) says the answer is
 * whole; "no answer from WHO" after 30 s without a byte; 0 or -1 after a
 * message.
 */
int ctl_sock_connect(const char *, int *);
int ctl_sock_send(int, const char *, const char *);
int ctl_sock_read(int, const char *, const char *, char **, size_t *,
    bool (*)(const char *, size_t));

/* resource.c: create, apply, replace, delete */
extern const struct ctl_cmd resource_cmds[];
extern const size_t resource_ncmds;

/* get.c */
extern const struct ctl_cmd get_cmds[];
extern const size_t get_ncmds;
/* the "default" namespace unless -n or -A; NULL: every namespace */
const char *get_namespace(const struct ctl *);
/* a stored v3 resource, decoded leniently, resourceVersion from etcd */
int get_decode_kv(const struct etcd_kv *, struct resource *, char *, size_t);
/* the kinds a user may name, for --help */
void get_kinds_help(FILE *);

/*
 * ipam.c: the IPAM tree as read at one time, shared by show and release
 * (ipam.c), check (ipam_check.c) and the release of a deleted pool's
 * blocks (ipam_pool.c).
 */
extern const struct ctl_cmd ipam_cmds[];
extern const size_t ipam_ncmds;

#define IPAM_RETRIES 10 /* compare-and-swap rounds that lose a race */
#define IPAM_TXN_OPS 120 /* under etcd's 128 */

struct ipam_block {
	char *key;
	int64_t mod;
	struct model_block b;
	int pool; /* index into pools, -1: none */
	size_t inuse;
};

struct ipam_aff {
	char *key;
	int64_t mod; /* -1: dealt with by --fix */
	char host[256];
	struct prefix cidr;
};

struct ipam_handle {
	char *key;
	char *id;
	int64_t mod;
	struct model_handle h;
	bool used; /* an allocation carries it */
};

/* who uses addresses: endpoints and nodes */
struct ipam_users {
	char **nodes;
	size_t nnodes;
	char **cids; /* WorkloadEndpoint containerIDs */
	size_t ncids;
	struct addr *ips; /* endpoint addresses and node tunnel addresses */
	size_t nips;
	size_t nweps;
	/*
	 * "KEY: why" of each Node or WorkloadEndpoint whose addresses are not
	 * known (not even from its raw JSON): what it holds may look leaked,
	 * so check --fix refuses to run.
	 */
	char **unreadable;
	size_t nunreadable;
};

struct ipam_state {
	struct etcd *etcd;
	struct resource *pools;
	size_t npools;
	struct ipam_block *blocks; /* sorted by CIDR */
	size_t nblocks;
	struct ipam_aff *affs;
	size_t naffs;
	struct ipam_handle *handles;
	size_t nhandles;
	struct ipam_users users;
};

int ipam_load(struct ctl *, struct ipam_state *, bool);
int ipam_load_users(struct etcd *, struct ipam_users *);
void ipam_state_clean(struct ipam_state *);
void ipam_users_clean(struct ipam_users *);
bool ipam_has_str(char **, size_t, const char *);
bool ipam_has_ip(const struct ipam_users *, const struct addr *);
json_t *ipam_kv_json(const struct etcd_kv *);
/* the txn op writing a block (deleting it when empty and unaffined), a
 * handle (deleting it at 0); *valp is the value to free after the txn */
void ipam_block_op(
    const char *, const struct model_block *, char **, struct etcd_op *);
void ipam_handle_op(
    const char *, const struct model_handle *, char **, struct etcd_op *);

/* ipam_assign.c: ipam assign (store/ipam.h), ipam release --handle */
int ipam_assign_cmd(struct ctl *, int, char **);
int ipam_release_handle_cmd(struct ctl *, int, char **);

/* ipam_check.c: ipam check [--fix [--grace SECONDS]] */
int ipam_check(struct ctl *, int, char **);
void ipam_check_help(FILE *);

/*
 * ipam_pool.c: what deleting an IPPool does to the IPAM tree, as
 * libcalico-go's IPPool Delete: the blocks inside the pool lose their
 * affinity (an empty one is deleted), and their affinity keys are
 * deleted, each block in one compare-and-swap txn.  Blocks that still
 * hold addresses stay, affine to nobody.
 */
struct ipam_pool_release {
	size_t blocks_deleted; /* empty ones */
	size_t blocks_kept; /* still holding addresses, affinity taken off */
	size_t addrs_kept; /* the addresses those hold */
	size_t affs_deleted;
};

/*
 * Before anything is written: every block inside the pool (CIDR) decodes.
 * 0, or -1 after a message naming the pool (the id, "IPPool(NAME)") and
 * the block.
 */
int ipam_pool_check(struct etcd *, const struct prefix *, const char *);
/* once the pool is disabled; 0, or -1 after a message */
int ipam_pool_release(struct etcd *, const struct prefix *, const char *,
    struct ipam_pool_release *);

/* migrate.c: from-etcdv2 */
extern const struct ctl_cmd migrate_cmds[];
extern const size_t migrate_ncmds;

/* config.c: where the datastore is */
enum ctl_dstype {
	CTL_DS_ETCDV3,
	CTL_DS_ETCDV2, /* a v1 calicoApiConfig's default */
};

struct ctl_dsconfig {
	char *source; /* "FILE", "environment" or "default" for messages */
	enum ctl_dstype type;
	char *endpoints; /* "http://a:2379,https://b:2379" */
	char *ca_file;
	char *cert_file;
	char *key_file;
	char *username;
	char *password;
	char *tmpfiles[3]; /* inline PEM written out; removed by _clean */
	size_t ntmpfiles;
};

/*
 * Load the datastore settings: path if given (it must exist), else the
 * first of defaults[0..ndefaults) that exists, else the environment
 * (ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ..., each also with a CALICO_
 * prefix, which wins), else http://127.0.0.1:2379.  -1 with
 * "FILE:LINE: PATH: message" in err.
 */
int ctl_config_load(const char *path, const char *const *defaults,
    size_t ndefaults, struct ctl_dsconfig *, char *err, size_t errlen);
/* one file's text: calicoctl.cfg v1 or v3, or podmesh's datastore: map */
int ctl_config_parse(const char *buf, size_t len, const char *name,
    struct ctl_dsconfig *, char *err, size_t errlen);
int ctl_config_env(struct ctl_dsconfig *, char *err, size_t errlen);
void ctl_config_clean(struct ctl_dsconfig *);
/* the settings for this command line, loaded once; NULL after a message */
const struct ctl_dsconfig *ctl_dsconfig_get(struct ctl *);
/* the etcd v3 client for this command line, opened once; NULL after a
 * message */
struct etcd *ctl_etcd(struct ctl *);
void ctl_close(struct ctl *);

/*
 * status.c: node status rows (ctl/node_status.c asks the sockets), from
 * podmesh-bgpd's peers answer or BIRD's `show protocols`, printed as
 * calicoctl's `node status` or as JSON.
 */
#define STATUS_NCOLS 5

struct status_row {
	struct addr addr;
	char address[64];
	char *type; /* "node-to-node mesh", "global", "node specific", ... */
	char *state; /* BIRD's word: "up", "start" */
	time_t since; /* 0: unknown */
	char *info; /* "Established", "Active Connection refused" */
};

struct status {
	struct status_row *rows; /* sorted by address, IPv4 first */
	size_t nrows;
};

const char *status_state_word(const char *);
void status_since(time_t, time_t, char *, size_t);
char *status_info(const char *, const char *);
int status_from_peers(json_t *, struct status *, char *, size_t);
int status_from_bird(
    const char *, size_t, time_t, struct status *, char *, size_t);
time_t status_bird_time(const char *, time_t);
void status_print(const struct status *, time_t, FILE *);
json_t *status_json(const struct status *);
void status_clean(struct status *);

/* node_status.c */
extern const struct ctl_cmd node_cmds[];
extern const size_t node_ncmds;

/* table.c */
struct table;

struct table *table_new(int, const char *const *);
void table_add(struct table *, const char *const *);
void table_print(struct table *, FILE *);
void table_free(struct table *);
void table_duration(uint64_t, char *, size_t);
int table_peers(json_t *, FILE *);
int table_routes(json_t *, FILE *);

#endif
