/*
 * The backend interface inside confd/: what backend.c (the dispatcher behind
 * confd.h's confd_backend_*) shares with each backend type (backend_file.c,
 * backend_v2.c, backend_v3.c).
 *
 * A backend's constructor allocates a struct confd_backend (xcalloc), sets
 * ops, priv and describe, and returns it (NULL with a message in err).  It
 * fills kvs (sorted, as memkv.c keeps it) whenever its tree changes, keeps
 * describe current, and calls confd_backend_changed() after each change that
 * templates must see (the first complete load included).
 *
 * The dispatcher owns everything else: confd_backend_new() picks the
 * constructor by config->type; set_callback stores cb and cb_arg;
 * confd_backend_start() calls ops->start; confd_backend_kvs() returns &kvs
 * once loaded is set, else NULL; confd_backend_describe() returns describe;
 * confd_backend_free() calls ops->free (which releases priv and whatever
 * the backend holds, never b itself), then confd_kvs_clean(&b->kvs) and
 * free(b).
 */
#ifndef PODMESH_CONFD_BACKEND_INT_H
#define PODMESH_CONFD_BACKEND_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "confd/confd.h"

struct confd_backend_ops {
	const char *type; /* "etcdv3", "etcdv2", "file" */
	/* starts loading and watching; 0, or -1 with a message */
	int (*start)(struct confd_backend *, char *, size_t);
	/* releases priv and the backend's resources; NULL: free(priv) */
	void (*free)(struct confd_backend *);
};

#define CONFD_DESCRIBE_MAX 512

struct confd_backend {
	const struct confd_backend_ops *ops;
	void *priv; /* the backend type's state */
	confd_backend_cb *cb; /* set_callback; NULL: none */
	void *cb_arg;
	/* the whole key tree; replace it (clean the old one) then call
	 * confd_backend_changed() */
	struct confd_kvs kvs;
	bool loaded; /* set by confd_backend_changed() */
	/* "etcdv3 http://127.0.0.1:2379, revision 42"; kept current by the
	 * backend */
	char describe[CONFD_DESCRIBE_MAX];
};

/*
 * Marks b loaded and calls the callback (if set).  Called by a backend from
 * the event loop (or from start, for a backend that loads synchronously)
 * after it replaced b->kvs.  backend.c.
 */
void confd_backend_changed(struct confd_backend *);

/* Constructors, one per type; config->type is not looked at. */
struct confd_backend *confd_backend_v3_new(
    const struct confd_backend_config *, char *, size_t);
struct confd_backend *confd_backend_v2_new(
    const struct confd_backend_config *, char *, size_t);
struct confd_backend *confd_backend_file_new(
    const struct confd_backend_config *, char *, size_t);

/*
 * The file backend's parser (backend_file.c), pure, for tests and the fuzz
 * target: buf[0..len) named name (for messages) as YAML or JSON: out is
 * cleared and filled with its keys; 0, or -1 with "NAME:LINE:COL: message"
 * (or "NAME: message") in err and out left empty.
 */
int confd_file_parse(const char *buf, size_t len, const char *name,
    struct confd_kvs *out, char *err, size_t errlen);

#endif
