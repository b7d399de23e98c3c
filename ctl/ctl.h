/*
 * podmeshctl internals: the command and option tables, the control-socket
 * client (bgp.c), the datastore configuration and connection (config.c),
 * the resource commands (resource.c, get.c), IPAM (ipam.c) and the table
 * formatter (table.c).  The bgp commands speak the socket protocol of
 * bgp/control.h and never link the daemon's code; the datastore commands
 * go through store/ (etcd v3 client, Calico's resource model).
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

#include <jansson.h>

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

struct etcd;
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
	bool skip_exists;
	bool skip_not_exists;
	bool apply;
	bool force;
	const char *v2_endpoints; /* NULL: from the configuration */
	const char *v2_ca_file;
	const char *v2_cert_file;
	const char *v2_key_file;
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

/* resource.c: create, apply, replace, delete */
extern const struct ctl_cmd resource_cmds[];
extern const size_t resource_ncmds;

/* get.c */
extern const struct ctl_cmd get_cmds[];
extern const size_t get_ncmds;
/* the "default" namespace unless -n or -A; NULL: every namespace */
const char *get_namespace(const struct ctl *);
struct etcd_kv;
struct resource;
/* a stored v3 resource, decoded leniently, resourceVersion from etcd */
int get_decode_kv(const struct etcd_kv *, struct resource *, char *, size_t);
/* the kinds a user may name, for --help */
void get_kinds_help(FILE *);

/* ipam.c */
extern const struct ctl_cmd ipam_cmds[];
extern const size_t ipam_ncmds;

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
