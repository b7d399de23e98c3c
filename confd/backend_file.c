/*
 * The file backend (--backend file --file KV): a YAML or JSON file of keys,
 * as confd's file backend reads it.  Mappings nest into paths ({a: {b: 1}}
 * and {"/a/b": 1} both give /a/b), sequences are indexed (/a/0, /a/1),
 * every key is path.Clean'ed, and scalars keep the text they were written
 * with; null values give no key.  The file is read again when it is
 * replaced or rewritten (inotify on its directory); a file that becomes
 * unreadable or bad keeps the last good keys.  A file created in place is
 * read once its writer closes it (or FILE_CREATE_WAIT_MS after it
 * appeared, for a link made there), never half written; a directory
 * removed or moved away is watched again once it is back.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <yaml.h>

#include "confd/backend_int.h"
#include "confd/confd.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define FILE_MAX_BYTES (64 * 1024 * 1024)
#define FILE_MAX_KEYS 100000
#define FILE_MAX_VISITS 1000000 /* nodes walked, aliases included */
#define FILE_MAX_DEPTH 64
#define FILE_MAX_KEYBYTES (16 * 1024 * 1024) /* keys + values, in all */
#define FILE_SETTLE_MS 20 /* wait for a burst of events to end */
#define FILE_CREATE_WAIT_MS 2000 /* created, not yet closed: wait this long */
#define FILE_REWATCH_MS 500 /* the directory is gone: look again */
#define FILE_WATCH_MASK                                                        \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |                \
	    IN_MOVED_FROM | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

/* ---- the parser ---- */

struct fkv {
	char *key; /* cleaned */
	char *value;
	yaml_mark_t mark; /* of the value */
	size_t seq; /* order in the file */
};

struct fwalk {
	yaml_document_t *doc;
	const char *name;
	char *err;
	size_t errlen;
	struct fkv *v;
	size_t n, cap;
	size_t visits, bytes;
	char *path; /* the key being built */
	size_t pathlen, pathcap;
};

static void
path_push(struct fwalk *w, const char *s, size_t len)
{
	if (w->pathlen + len + 2 > w->pathcap) {
		w->pathcap = (w->pathlen + len + 2) * 2;
		w->path = xrealloc(w->path, w->pathcap);
	}
	w->path[w->pathlen++] = '/';
	memcpy(w->path + w->pathlen, s, len);
	w->pathlen += len;
	w->path[w->pathlen] = '\0';
}

static void
errmark(struct fwalk *w, yaml_mark_t m, const char *msg)
{
	snprintf(w->err, w->errlen, "%s:%zu:%zu: %s", w->name, m.line + 1,
	    m.column + 1, msg);
}

/* YAML 1.1's null, as go-yaml resolves a plain scalar */
static int
is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static int walk(struct fwalk *, yaml_node_t *, int);

static int
leaf(struct fwalk *w, yaml_node_t *n)
{
	struct fkv *kv;
	size_t vlen = n->data.scalar.length;

	if (is_null(n))
		return 0;
	if (w->n == FILE_MAX_KEYS) {
		char msg[64];

		snprintf(msg, sizeof(msg), "more than %d keys", FILE_MAX_KEYS);
		errmark(w, n->start_mark, msg);
		return -1;
	}
	w->bytes += w->pathlen + vlen;
	if (w->bytes > FILE_MAX_KEYBYTES) {
		errmark(w, n->start_mark,
		    "keys and values longer than 16 MiB in all (aliases?)");
		return -1;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->v = xreallocarray(w->v, w->cap, sizeof(*w->v));
	}
	kv = &w->v[w->n];
	kv->key = confd_path_clean(w->pathlen ? w->path : "/");
	kv->value = xstrndup((const char *)n->data.scalar.value, vlen);
	kv->mark = n->start_mark;
	kv->seq = w->n++;
	return 0;
}

static int
walk_mapping(struct fwalk *w, yaml_node_t *n, int depth)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	size_t saved = w->pathlen;

	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		k = yaml_document_get_node(w->doc, p->key);
		v = yaml_document_get_node(w->doc, p->value);
		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			errmark(w, k->start_mark,
			    "a key must be a scalar, not a collection");
			return -1;
		}
		path_push(w, (const char *)k->data.scalar.value,
		    strnlen((const char *)k->data.scalar.value,
		        k->data.scalar.length));
		if (walk(w, v, depth + 1) == -1)
			return -1;
		w->pathlen = saved;
		w->path[saved] = '\0';
	}
	return 0;
}

static int
walk_sequence(struct fwalk *w, yaml_node_t *n, int depth)
{
	yaml_node_item_t *it;
	yaml_node_t *v;
	size_t saved = w->pathlen, i = 0;
	char idx[32];

	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		v = yaml_document_get_node(w->doc, *it);
		if (v == NULL)
			continue;
		snprintf(idx, sizeof(idx), "%zu", i);
		path_push(w, idx, strlen(idx));
		if (walk(w, v, depth + 1) == -1)
			return -1;
		w->pathlen = saved;
		w->path[saved] = '\0';
	}
	return 0;
}

static int
walk(struct fwalk *w, yaml_node_t *n, int depth)
{
	if (++w->visits > FILE_MAX_VISITS) {
		errmark(w, n->start_mark,
		    "too many values (aliases expanding without end?)");
		return -1;
	}
	if (depth > FILE_MAX_DEPTH) {
		errmark(w, n->start_mark, "nested more than 64 levels deep");
		return -1;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return leaf(w, n);
	case YAML_MAPPING_NODE:
		return walk_mapping(w, n, depth);
	case YAML_SEQUENCE_NODE:
		return walk_sequence(w, n, depth);
	default:
		return 0;
	}
}

static int
fkv_cmp(const void *a, const void *b)
{
	const struct fkv *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
parse_error(const yaml_parser_t *p, const char *name, char *err, size_t errlen)
{
	const char *problem = p->problem ? p->problem : "bad YAML";

	if (p->error == YAML_MEMORY_ERROR)
		problem = "out of memory";
	if (p->context != NULL)
		snprintf(err, errlen, "%s:%zu:%zu: %s %s", name,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    problem, p->context);
	else
		snprintf(err, errlen, "%s:%zu:%zu: %s", name,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    problem);
}

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	default:
		return "not a mapping";
	}
}

/*
 * Refuses nesting deeper than FILE_MAX_DEPTH from the event stream, before
 * yaml_parser_load builds the document: libyaml's scanner costs O(depth)
 * a token, so a file of 64 MiB of "[" would take hours.  Syntax errors are
 * left to the load, which reports them.  0, or -1 with a message.
 */
static int
depth_check(
    const char *buf, size_t len, const char *name, char *err, size_t errlen)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, r = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		return 0; /* the load says it */
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && yaml_parser_parse(&p, &ev)) {
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth > FILE_MAX_DEPTH) {
				snprintf(err, errlen,
				    "%s:%zu:%zu: nested more than %d levels "
				    "deep",
				    name, ev.start_mark.line + 1,
				    ev.start_mark.column + 1, FILE_MAX_DEPTH);
				r = -1;
				done = true;
			}
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return r;
}

int
confd_file_parse(const char *buf, size_t len, const char *name,
    struct confd_kvs *out, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc, doc2;
	yaml_node_t *root;
	struct fwalk w;
	char msg[128];
	size_t i;
	int r = -1;

	confd_kvs_clean(out);
	memset(&w, 0, sizeof(w));
	w.doc = &doc;
	w.name = name;
	w.err = err;
	w.errlen = errlen;
	if (depth_check(buf, len, name, err, errlen) == -1)
		return -1;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		parse_error(&parser, name, err, errlen);
		yaml_parser_delete(&parser);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		snprintf(err, errlen, "%s: empty file, no keys", name);
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		snprintf(msg, sizeof(msg),
		    "the top level is %s, not a mapping of keys",
		    node_kind(root));
		errmark(&w, root->start_mark, msg);
		goto out;
	}
	/* one document, as confd (go-yaml) reads only the first */
	if (!yaml_parser_load(&parser, &doc2)) {
		parse_error(&parser, name, err, errlen);
		goto out;
	}
	if (yaml_document_get_root_node(&doc2) != NULL) {
		errmark(&w, doc2.start_mark,
		    "a second document: put every key in one");
		yaml_document_delete(&doc2);
		goto out;
	}
	yaml_document_delete(&doc2);
	if (walk(&w, root, 0) == -1)
		goto out;
	if (w.n > 1)
		qsort(w.v, w.n, sizeof(*w.v), fkv_cmp);
	for (i = 1; i < w.n; i++) {
		if (strcmp(w.v[i - 1].key, w.v[i].key) != 0)
			continue;
		snprintf(msg, sizeof(msg), "first at line %zu",
		    w.v[i - 1].mark.line + 1);
		snprintf(err, errlen, "%s:%zu:%zu: duplicate key %s (%s)", name,
		    w.v[i].mark.line + 1, w.v[i].mark.column + 1, w.v[i].key,
		    msg);
		goto out;
	}
	/* in key order, so every set appends */
	for (i = 0; i < w.n; i++)
		confd_kvs_set(out, w.v[i].key, w.v[i].value);
	r = 0;
out:
	for (i = 0; i < w.n; i++) {
		free(w.v[i].key);
		free(w.v[i].value);
	}
	free(w.v);
	free(w.path);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}

/* ---- the backend ---- */

struct file_backend {
	struct confd_backend *b;
	char *path, *dir, *base;
	struct event_base *evb;
	int ifd;
	int wd; /* the directory's watch; -1: gone, rewatch runs */
	struct event *iev; /* inotify fd readable */
	struct event *settle; /* re-read after a burst of events */
	struct event *first; /* the first callback, from the loop */
	struct event *rewatch; /* the directory is gone: look again */
	bool creating; /* created in place, its writer not done yet */
	struct timespec created; /* when (CLOCK_MONOTONIC) */
	char *last_err; /* the last error logged; NULL: the file is good */
};

/* Reads and parses the file into out: 0, or -1 with a message. */
static int
file_load(const char *path, struct confd_kvs *out, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t got;
	int fd, r;

	/* O_NONBLOCK: a FIFO without a writer is refused below, not waited
	 * on; it changes nothing for a regular file */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path,
		    S_ISDIR(st.st_mode) ? "a directory, not a file"
		                        : "not a regular file");
		close(fd);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= FILE_MAX_BYTES) {
				snprintf(err, errlen, "%s: larger than 64 MiB",
				    path);
				free(buf);
				close(fd);
				return -1;
			}
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		got = read(fd, buf + len, cap - len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	r = confd_file_parse(buf, len, path, out, err, errlen);
	free(buf);
	return r;
}

static void
file_reload(struct file_backend *f)
{
	struct confd_kvs kvs = {0};
	char err[CONFD_ERRLEN];

	if (file_load(f->path, &kvs, err, sizeof(err)) == -1) {
		if (f->last_err == NULL || strcmp(f->last_err, err) != 0) {
			log_warnx("%s; keeping the last good keys", err);
			free(f->last_err);
			f->last_err = xstrdup(err);
		}
		return;
	}
	if (f->last_err != NULL) {
		log_info("%s: good again, %zu keys", f->path, kvs.n);
		free(f->last_err);
		f->last_err = NULL;
	}
	if (confd_kvs_equal(&kvs, &f->b->kvs)) {
		confd_kvs_clean(&kvs);
		return;
	}
	confd_kvs_clean(&f->b->kvs);
	f->b->kvs = kvs;
	log_debug("%s: changed, %zu keys", f->path, kvs.n);
	confd_backend_changed(f->b);
}

static long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void
file_settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct file_backend *f = arg;
	struct timeval tv = {0, FILE_SETTLE_MS * 1000};

	(void)fd;
	(void)what;
	/* a half-written file would give a half tree */
	if (f->creating && ms_since(&f->created) < FILE_CREATE_WAIT_MS) {
		evtimer_add(f->settle, &tv);
		return;
	}
	f->creating = false;
	file_reload(f);
}

static void
file_rewatch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct file_backend *f = arg;
	struct timeval tv = {
	    FILE_REWATCH_MS / 1000, (FILE_REWATCH_MS % 1000) * 1000};

	(void)fd;
	(void)what;
	if ((f->wd = inotify_add_watch(f->ifd, f->dir, FILE_WATCH_MASK)) ==
	    -1) {
		evtimer_add(f->rewatch, &tv);
		return;
	}
	log_info("%s: back, watching %s again", f->dir, f->path);
	f->creating = false;
	file_reload(f);
}

/* Events for the directory itself, which no longer holds the file. */
static void
file_dir_event(struct file_backend *f, uint32_t mask)
{
	struct timeval tv = {0, 0};

	/* moved away: what it holds is no longer at path */
	if (mask & IN_MOVE_SELF)
		inotify_rm_watch(f->ifd, f->wd);
	if (mask & IN_IGNORED) {
		log_warnx("%s: the directory is gone, keeping the last keys "
		          "of %s until it is back",
		    f->dir, f->path);
		f->wd = -1;
		evtimer_add(f->rewatch, &tv);
	}
}

static void
file_first_cb(evutil_socket_t fd, short what, void *arg)
{
	struct file_backend *f = arg;

	(void)fd;
	(void)what;
	/* read again: it may have changed before start watched it */
	file_reload(f);
	if (!f->b->loaded)
		confd_backend_changed(f->b);
}

static void
file_inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct file_backend *f = arg;
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct timeval tv = {0, FILE_SETTLE_MS * 1000};
	ssize_t got;
	size_t off;
	int hit = 0;

	(void)what;
	for (;;) {
		got = read(fd, buf, sizeof(buf));
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (off = 0; off + sizeof(*ev) <= (size_t)got;
		     off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if (ev->mask & IN_Q_OVERFLOW) {
				hit = 1;
				continue;
			}
			/* a watch removed earlier still draining */
			if (f->wd == -1 || ev->wd != f->wd)
				continue;
			if (ev->mask & (IN_IGNORED | IN_MOVE_SELF)) {
				file_dir_event(f, ev->mask);
				continue;
			}
			/* ..data: a Kubernetes volume swapping its files */
			if (ev->len == 0 ||
			    (strcmp(ev->name, f->base) != 0 &&
			        strcmp(ev->name, "..data") != 0))
				continue;
			hit = 1;
			if ((ev->mask & IN_CREATE) && !(ev->mask & IN_ISDIR)) {
				f->creating = true;
				clock_gettime(CLOCK_MONOTONIC, &f->created);
			} else if (ev->mask &
			    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE |
			        IN_MOVED_FROM))
				f->creating = false;
		}
	}
	if (hit)
		evtimer_add(f->settle, &tv);
}

static int
file_start(struct confd_backend *b, char *err, size_t errlen)
{
	struct file_backend *f = b->priv;
	struct timeval now = {0, 0};

	if (f->evb == NULL) {
		snprintf(
		    err, errlen, "file backend %s: no event base", f->path);
		return -1;
	}
	if (f->ifd != -1) {
		snprintf(
		    err, errlen, "file backend %s: started twice", f->path);
		return -1;
	}
	f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->ifd == -1) {
		snprintf(err, errlen, "inotify: %s", strerror(errno));
		return -1;
	}
	if ((f->wd = inotify_add_watch(f->ifd, f->dir, FILE_WATCH_MASK)) ==
	    -1) {
		snprintf(err, errlen, "%s: cannot watch: %s", f->dir,
		    strerror(errno));
		close(f->ifd);
		f->ifd = -1;
		return -1;
	}
	f->iev =
	    event_new(f->evb, f->ifd, EV_READ | EV_PERSIST, file_inotify_cb, f);
	f->settle = evtimer_new(f->evb, file_settle_cb, f);
	f->first = evtimer_new(f->evb, file_first_cb, f);
	f->rewatch = evtimer_new(f->evb, file_rewatch_cb, f);
	event_add(f->iev, NULL);
	evtimer_add(f->first, &now);
	return 0;
}

static void
file_free(struct confd_backend *b)
{
	struct file_backend *f = b->priv;

	if (f == NULL)
		return;
	if (f->iev != NULL)
		event_free(f->iev);
	if (f->settle != NULL)
		event_free(f->settle);
	if (f->first != NULL)
		event_free(f->first);
	if (f->rewatch != NULL)
		event_free(f->rewatch);
	if (f->ifd != -1)
		close(f->ifd);
	free(f->path);
	free(f->dir);
	free(f->base);
	free(f->last_err);
	free(f);
	b->priv = NULL;
}

static const struct confd_backend_ops file_ops = {
    .type = "file",
    .start = file_start,
    .free = file_free,
};

struct confd_backend *
confd_backend_file_new(
    const struct confd_backend_config *config, char *err, size_t errlen)
{
	struct confd_backend *b;
	struct file_backend *f;
	const char *slash;

	if (config->file == NULL || *config->file == '\0') {
		snprintf(err, errlen, "file backend: no file (--file KV)");
		return NULL;
	}
	b = xcalloc(1, sizeof(*b));
	f = xcalloc(1, sizeof(*f));
	b->ops = &file_ops;
	b->priv = f;
	f->b = b;
	f->ifd = -1;
	f->wd = -1;
	f->evb = config->base;
	f->path = xstrdup(config->file);
	slash = strrchr(f->path, '/');
	if (slash == NULL) {
		f->dir = xstrdup(".");
		f->base = xstrdup(f->path);
	} else {
		f->dir = slash == f->path
		    ? xstrdup("/")
		    : xstrndup(f->path, (size_t)(slash - f->path));
		f->base = xstrdup(slash + 1);
	}
	if (*f->base == '\0') {
		snprintf(err, errlen, "%s: a directory, not a file", f->path);
		confd_backend_free(b);
		return NULL;
	}
	snprintf(b->describe, sizeof(b->describe), "file %s", f->path);
	if (file_load(f->path, &b->kvs, err, errlen) == -1) {
		confd_backend_free(b);
		return NULL;
	}
	return b;
}
