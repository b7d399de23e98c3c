/*
 * Internals shared by store/model*.c: the decoding context, which tracks
 * the field path that messages name, and the table-driven codec for JSON
 * objects.  A kind's spec is a table of fields (name, type, offset into
 * its struct); members not in the table go to the struct's `extra`.
 */
#ifndef PODMESH_STORE_MODEL_INT_H
#define PODMESH_STORE_MODEL_INT_H

#include <stdarg.h>

#include "store/model.h"

#define MCTX_PATH_MAX 512

struct mctx {
	int flags; /* MODEL_STRICT */
	char *err;
	size_t errlen;
	char path[MCTX_PATH_MAX]; /* where we are: "spec.bgp.asNumber" */
	size_t pathlen;
	char errpath[MCTX_PATH_MAX]; /* where the error is */
};

void mctx_init(struct mctx *, int, const char *, char *, size_t);
size_t mctx_push(struct mctx *, const char *);
size_t mctx_push_index(struct mctx *, size_t);
void mctx_pop(struct mctx *, size_t);
/* "PATH: message" into err; returns -1 */
int mctx_err(struct mctx *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* the same for the member field of the current path */
int mctx_err_at(struct mctx *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* a value for messages: "\"text\"", 42, true, null, a list, a map */
const char *mctx_repr(const json_t *, char *, size_t);

enum mf_type {
	MF_STR, /* char *; "" reads as unset; .names limits values */
	MF_NAME, /* char *: a resource name */
	MF_SELECTOR, /* char *: a label selector that parses */
	MF_MAC, /* char *: a MAC address */
	MF_ENUM, /* int: index into .names (0 is unset) */
	MF_BOOL, /* bool, written when true */
	MF_TRI, /* enum model_tri, written when set */
	MF_ASN, /* uint32_t: a number, "N" or "AS.AS"; 0 is unset */
	MF_U8, /* uint8_t in [.min, .max]; 0 is unset */
	MF_U16,
	MF_U32,
	MF_ADDR, /* struct addr of .family (0: either) */
	MF_IFADDR, /* struct prefix: address[/len], host bits kept */
	MF_STRLIST, /* char ** at .off, size_t count at .aux */
	MF_LABELS, /* struct model_labels */
	MF_OBJ, /* nested table .sub; bool "present" at .aux */
	MF_CUSTOM, /* .dec, .enc and .clean on the whole struct */
};

#define MFF_REQUIRED 0x01
#define MFF_ALWAYS 0x02 /* written even when empty: no omitempty in Go */
#define MFF_ZERO 0x04 /* MF_ASN: 0 reads as unset */

struct mtable;

struct mfield {
	const char *name;
	enum mf_type type;
	size_t off;
	size_t aux;
	unsigned flags;
	const char *const *names; /* NULL-terminated */
	int family;
	uint32_t min, max;
	const struct mtable *sub;
	int (*dec)(struct mctx *, const json_t *, void *);
	json_t *(*enc)(const void *); /* NULL: leave the member out */
	void (*clean)(void *);
};

struct mtable {
	const struct mfield *f;
	size_t n;
	size_t extra_off; /* json_t * for unknown members */
	/* Calico's fields the model leaves alone: kept, even when strict */
	const char *const *known;
};

#define MTABLE(fields, type, known)                                            \
	{                                                                      \
		(fields), sizeof(fields) / sizeof((fields)[0]),                \
		    offsetof(type, extra), (known)                             \
	}

int mtable_decode(struct mctx *, const struct mtable *, const json_t *, void *);
json_t *mtable_encode(const struct mtable *, const void *);
void mtable_clean(const struct mtable *, void *);

/* value helpers for custom fields and the IPAM codecs */
int mval_string(struct mctx *, const json_t *, const char **);
int mval_bool(struct mctx *, const json_t *, bool *);
int mval_tri(struct mctx *, const json_t *, enum model_tri *);
int mval_prefix(struct mctx *, const json_t *, struct prefix *);
int mval_labels(struct mctx *, const json_t *, struct model_labels *);
json_t *mval_labels_json(const struct model_labels *);
void mval_extra(json_t **, const char *, json_t *);
void mval_merge_extra(json_t *, const json_t *);
json_t *mval_prefix_json(const struct prefix *);
bool mval_in(const char *, const char *const *);

/* a kind: its spec table and checks (model.c holds the list) */
struct model_kind_ops {
	struct model_kind_info info;
	const struct mtable *spec;
	/* after the table: defaults and rules across fields (path "spec") */
	int (*check)(struct mctx *, void *);
	/* with the metadata decoded: rules on names */
	int (*check_meta)(struct mctx *, struct resource *);
	const char *const *top_known; /* top-level members besides spec */
	size_t size; /* of the spec struct */
};

int model_spec_from_json(
    enum model_kind, const json_t *, void *, int, char *, size_t);
json_t *model_spec_to_json(enum model_kind, const void *);
void model_spec_clean(enum model_kind, void *);

/* decode at a path prefix ("items[2]"), copying the error's path out */
int resource_decode_at(const json_t *, int, const char *, struct resource *,
    char *, size_t, char *, size_t);

/* model_node.c */
extern const struct mtable model_node_table;
int model_node_check(struct mctx *, void *);
/* model_bgp.c */
extern const struct mtable model_bgpconfig_table;
extern const struct mtable model_bgppeer_table;
int model_bgpconfig_check_meta(struct mctx *, struct resource *);
int model_bgppeer_check(struct mctx *, void *);
/* model_pool.c */
extern const struct mtable model_ippool_table;
int model_ippool_check(struct mctx *, void *);
/* model_wep.c */
extern const struct mtable model_wep_table;
int model_wep_check(struct mctx *, void *);
int model_wep_check_meta(struct mctx *, struct resource *);
/* model_cluster.c */
extern const struct mtable model_clusterinfo_table;

#endif
