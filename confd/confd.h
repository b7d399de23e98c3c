/*
 * podmesh-confd: confd's job (calico.md §3) on podmesh's datastore code.
 * A backend keeps the whole key tree confd templates read; for every
 * template resource (conf.d/NAME.toml) the keys under its prefix are put in a
 * memkv store, its template is rendered with confd's functions, and the
 * output is checked, swapped in atomically and the daemon reloaded, only
 * when it changed.
 *
 *	memkv.c		confd's memkv.Store: sorted keys, get/gets/ls/lsdir
 *	funcs.c		confd's template functions (+ Calico's hashToIPv4)
 *	gotime.c	time.Time for datetime: Format and String
 *	toml.c		the TOML subset template resources are written in
 *	resource.c	template resources: conf.d/NAME.toml -> struct
 *			confd_resource; resource_sync.c renders one: check,
 *			swap, reload; shcmd.c runs check_cmd and reload_cmd
 *	cycle.c		render at start and on every change, debounced
 *	backend.c	the backend interface; backend_file.c (YAML/JSON file
 *			of keys), backend_v2.c (raw etcd v2), backend_v3.c
 *			(Calico v3 resources -> the v1 key tree, v1tree.c)
 *	main.c		podmesh-confd
 */
#ifndef PODMESH_CONFD_CONFD_H
#define PODMESH_CONFD_CONFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "confd/tmpl.h"
#include "store/etcd.h"

struct event_base;
struct wcache;

#define CONFD_ERRLEN 1024

/* ---- key/value sets (memkv.c) ---- */

struct confd_kv {
	char *key; /* "/global/as_num": absolute, cleaned (path.Clean) */
	char *value;
};

/* Sorted by key (strcmp), keys unique. */
struct confd_kvs {
	struct confd_kv *v;
	size_t n, cap;
};

/* Sets key (cleaned) to value, keeping the order; copies both. */
void confd_kvs_set(struct confd_kvs *, const char *key, const char *value);
/* The value of key, or NULL. */
const char *confd_kvs_get(const struct confd_kvs *, const char *key);
/* Index of the first key >= key (binary search). */
size_t confd_kvs_lower(const struct confd_kvs *, const char *key);
void confd_kvs_clean(struct confd_kvs *);
bool confd_kvs_equal(const struct confd_kvs *, const struct confd_kvs *);
/*
 * Go's path.Clean and path.Join (a leading "/" added by Join as confd's
 * path.Join("/", ...)), malloc'd.
 */
char *confd_path_clean(const char *);
char *confd_path_join(const char *, const char *);
/* Go's path.Match(pattern, name): 1 match, 0 not, -1 bad pattern */
int confd_path_match(const char *pattern, const char *name);
/* Go's path.Base and path.Dir, malloc'd. */
char *confd_path_base(const char *);
char *confd_path_dir(const char *);
/*
 * memkv's List (dir false) and ListDir (dir true) of path: the sorted,
 * unique child names, a malloc'd array of malloc'd strings.
 */
char **confd_kvs_list(
    const struct confd_kvs *, const char *path, bool dir, size_t *n);

/*
 * The memkv store one render reads: every key of the backend under
 * prefix/key for each key, stored as path.Join("/", strings.TrimPrefix(
 * key, prefix)), as confd's setVars.  A key matches prefix/key when it is
 * equal to it or below it ("/a/b" is below "/a", "/ab" is not).
 */
void confd_kvs_select(struct confd_kvs *out, const struct confd_kvs *all,
    const char *prefix, char *const *keys, size_t nkeys);

/* ---- template functions (funcs.c) ---- */

/*
 * confd's function map for a template reading store: get gets getv getvs
 * ls lsdir exists json jsonArray base dir split join map getenv toUpper
 * toLower contains replace hasSuffix hasPrefix base64Encode base64Decode
 * fileExists lookupIP lookupSRV datetime, and hashToIPv4.  Register with
 * tmpl_funcs(t, funcs, n, (void *)store).
 */
const struct tmpl_func *confd_funcs(size_t *n);

/* ---- template resources (toml.c, resource.c) ---- */

struct confd_resource {
	char *toml; /* the file it came from */
	char *src; /* the template: <confdir>/templates/<src> */
	char *dest; /* absolute; a relative dest is under confdir */
	char *prefix; /* //NODENAME expanded; "" for none */
	char **keys; /* as written, //NODENAME expanded */
	size_t nkeys;
	char *check_cmd; /* a template: {{.src}} is the staged file */
	char *reload_cmd; /* sh -c */
	mode_t mode; /* 0: keep dest's mode, else 0644 */
	uid_t uid; /* -1: the process's */
	gid_t gid;

	/* what the cycle saw (for logs and tests) */
	uint64_t renders; /* templates executed */
	uint64_t writes; /* dest replaced */
	uint64_t reloads; /* reload_cmd run */
	uint64_t failures; /* render, check or reload failures */
	char *last_error; /* the last failure's message, or NULL */
};

struct confd_opts {
	const char *confdir; /* holds conf.d/ and templates/ */
	const char *nodename; /* for //NODENAME; main sets $NODENAME to it */
	bool onetime; /* render once, exit non-zero on any failure */
	bool noop; /* render and check, never write or reload */
	bool keep_stage; /* leave the staged files for inspection */
	int debounce_ms; /* wait this long after a change; default 50 */
	int cmd_timeout_ms; /* check_cmd, reload_cmd; default 30000 */
};

/*
 * Reads one conf.d/NAME.toml file: the [template] table's src, dest, prefix,
 * keys, check_cmd, reload_cmd, mode ("0644" or 420), uid, gid; src and
 * dest required.  0, or -1 with "FILE:LINE: message".
 */
int confd_resource_load(const char *path, const struct confd_opts *,
    struct confd_resource *, char *, size_t);
/* Every conf.d/NAME.toml in name order; *out NULL when none (an error). */
int confd_resources_load(const struct confd_opts *, struct confd_resource **out,
    size_t *n, char *, size_t);
void confd_resource_clean(struct confd_resource *);

enum confd_outcome {
	CONFD_UNCHANGED, /* rendered equal to dest: nothing written or run */
	CONFD_UPDATED, /* checked, swapped in, reloaded; err "" or a note:
	                * noop ("noop: DEST out of sync, not modified"), or
	                * a failed check of a dest that did not exist yet,
	                * written anyway as Calico's confd does */
	CONFD_FAILED, /* render, check, write or reload failed: err says;
	               * dest untouched unless the reload failed after it */
};

/*
 * One render of r from the backend's keys: select, parse the template
 * (read from disk each time, as confd), execute, compare with dest, make
 * dest's directory when missing (0755, logged; not with noop), stage
 * beside dest (".<base>NNNN", "_" for shell-special bytes), check_cmd,
 * rename over dest with mode, uid, gid, reload_cmd.  A failing check
 * keeps the old dest; err holds the checker's output (the caller logs
 * outcomes: nothing above debug is logged here but a directory made).
 * all NULL: no keys (before the backend's first load).
 */
enum confd_outcome confd_resource_process(struct confd_resource *,
    const struct confd_kvs *, const struct confd_opts *, char *, size_t);

/* ---- backends (backend*.c) ---- */

struct confd_backend_config {
	const char *type; /* "etcdv3" (default), "etcdv2", "file" */
	struct etcd_config etcd; /* etcd endpoints and TLS; base is set */
	const char *file; /* file backend: YAML or JSON of keys */
	const char *nodename; /* etcdv3: whose affinities appear */
	const char *v2_prefix; /* etcdv2: the mirrored subtree; "/calico" */
	struct event_base *base;
};

struct confd_backend;

typedef void confd_backend_cb(struct confd_backend *, void *);

/* 0 on success, -1 with a message (a bad type, an unreadable file). */
struct confd_backend *confd_backend_new(
    const struct confd_backend_config *, char *, size_t);
/*
 * Called from the event loop after the first complete load and after
 * every change (several may collapse into one call).
 */
void confd_backend_set_callback(
    struct confd_backend *, confd_backend_cb *, void *);
/* Starts loading and watching. */
int confd_backend_start(struct confd_backend *, char *, size_t);
/* The whole key tree as templates see it; NULL until the first load. */
const struct confd_kvs *confd_backend_kvs(const struct confd_backend *);
/* A line for the log: "etcdv3 http://127.0.0.1:2379, revision 42". */
const char *confd_backend_describe(const struct confd_backend *);
void confd_backend_free(struct confd_backend *);

/*
 * Calico's v3 datastore as the v1 keys confd templates read (calico.md
 * §1 "confd still sees v1 keys", §3): from a node cache (node_cache_new),
 * the keys under /calico/bgp/v1/ (global as_num, node_mesh, loglevel,
 * listen_port; per node ip_addr_v4/_v6, network_v4/_v6, as_num,
 * rr_cluster_id, loglevel; peer_v4/peer_v6 global and per node from
 * BGPPeers, selectors expanded), /calico/v1/ipam/v4|v6/pool/, and
 * nodename's affinities under /calico/ipam/v2/host/<node>/ (all but the
 * pending ones, as Calico's client: a claim not yet confirmed is not
 * announced).
 * Pure: out is cleared and filled.
 */
void confd_v1tree(
    const struct wcache *, const char *nodename, struct confd_kvs *out);

/* ---- the cycle (cycle.c) ---- */

/*
 * Loads the resources, starts the backend, renders everything once it has
 * loaded and again (debounced) after every change, until SIGTERM/SIGINT,
 * or once with onetime.  SIGHUP re-reads conf.d.  0 on a clean exit; with
 * onetime -1 when any resource failed.
 */
int confd_run(const struct confd_opts *, struct confd_backend *,
    struct event_base *, char *, size_t);

#endif
