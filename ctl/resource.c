/*
 * podmeshctl create|apply|replace|delete: Calico v3 resources from YAML or
 * JSON files into etcd, with calicoctl's meaning (calico.md §1, §5):
 *
 *   create   every resource must be new (--skip-exists leaves those that
 *            exist); it gains a uid and creationTimestamp;
 *   apply    create or update;
 *   replace  every resource must exist; a metadata.resourceVersion in the
 *            file must still be the stored one (optimistic locking);
 *   delete   every resource must exist (--skip-not-exists), or KIND NAME.
 *
 * An update keeps the stored uid and creationTimestamp.  Values are
 * written as Calico stores them, without resourceVersion, which readers
 * take from the key's mod_revision.
 *
 * A file is all or nothing.  Every document is decoded and validated
 * first (store/model_load.c: "FILE:LINE: document N: PATH: message"),
 * then every key is read and each resource checked against what is stored
 * (exists, resourceVersion, an IPPool's immutable cidr and blockSize, pool
 * overlaps); any error is reported with its file, document and field and
 * nothing is written.  The writes then go in one etcd transaction whose
 * compares are what was checked (create: create_revision == 0; update and
 * delete: mod_revision == the one read), so a concurrent writer makes it
 * fail as a whole; it is then read and checked again.  Only when the
 * resources do not fit one transaction (etcd takes 128 operations by
 * default, --max-txn-ops, and 1.5 MiB) are they written one by one, each
 * with its own compare, which the output says before it starts.
 *
 * An apply whose value equals the stored one writes nothing for it (its
 * compare stays in the transaction), so applying what `get -o yaml`
 * printed changes nothing, not even revisions.
 */
#include <sys/random.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/addr.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/model.h"
#include "store/yamljson.h"
#include "ctl/ctl.h"

#define RES_TXN_MAX_OPS 128 /* etcd's --max-txn-ops default */
#define RES_TXN_MAX_BYTES (1024 * 1024) /* under its 1.5 MiB request */
#define RES_RETRIES 5 /* transactions that lose a race */
#define RES_MAX_STDIN (64 * 1024 * 1024)

enum res_action {
	ACT_CREATE,
	ACT_APPLY,
	ACT_REPLACE,
	ACT_DELETE,
};

static const struct {
	const char *verb;
	const char *done;
} res_words[] = {
    [ACT_CREATE] = {"create", "created"},
    [ACT_APPLY] = {"apply", "applied"},
    [ACT_REPLACE] = {"replace", "replaced"},
    [ACT_DELETE] = {"delete", "deleted"},
};

enum res_write {
	W_NONE, /* unchanged or skipped: no operation */
	W_PUT,
	W_DELETE,
};

struct res_item {
	struct resource r;
	const struct yamljson_doc *doc; /* NULL: from the command line */
	char path[64]; /* "", "[3]" or "items[3]" */
	char key[1024];
	char id[600]; /* calicoctl's "IPPool(pool-a)" */
	char *given_rv; /* metadata.resourceVersion of the file */
	/* the last read */
	bool exists;
	int64_t mod;
	json_t *cur;
	/* the write */
	enum res_write write;
	bool skipped;
	bool unchanged;
	bool has_cmp;
	struct etcd_cmp cmp;
	char *value;
};

struct res_run {
	struct ctl *ctl;
	enum res_action act;
	struct etcd *etcd;
	const char *file;
	struct res_item *items;
	size_t n;
	int nerrors;
	bool partial; /* written one by one: errors no longer mean nothing */
};

/* ---- messages ---- */

static void res_error(struct res_run *, const struct res_item *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

/* "FILE:LINE: document N: PATH: message", PATH under the item's own */
static void
res_error(struct res_run *run, const struct res_item *it, const char *field,
    const char *fmt, ...)
{
	char path[256], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	run->nerrors++;
	if (it->doc == NULL) {
		fprintf(stderr, "podmeshctl: %s\n", msg);
		return;
	}
	snprintf(path, sizeof(path), "%s%s%s", it->path,
	    *it->path != '\0' ? "." : "", field);
	fprintf(stderr, "%s:%d: document %d: %s: %s\n", run->file,
	    yamljson_line(it->doc, path), it->doc->index, path, msg);
}

static void
res_id(struct res_item *it)
{
	const struct model_kind_info *k = model_kind(it->r.kind);

	if (k->namespaced)
		snprintf(it->id, sizeof(it->id), "%s(%s/%s)", k->name,
		    it->r.meta.namespace, it->r.meta.name);
	else
		snprintf(
		    it->id, sizeof(it->id), "%s(%s)", k->name, it->r.meta.name);
}

/* ---- the file ---- */

static struct yamljson *
res_read_file(const char *path, char *err, size_t errlen)
{
	struct yamljson *yj;
	char *buf = NULL;
	size_t len = 0, n;

	if (strcmp(path, "-") != 0)
		return yamljson_load(path, err, errlen);
	for (;;) {
		buf = xrealloc(buf, len + 65536);
		if ((n = fread(buf + len, 1, 65536, stdin)) == 0 ||
		    (len += n) > RES_MAX_STDIN)
			break;
	}
	if (ferror(stdin) || len > RES_MAX_STDIN) {
		snprintf(err, errlen, "stdin: %s",
		    len > RES_MAX_STDIN ? "too large" : strerror(errno));
		free(buf);
		return NULL;
	}
	yj = yamljson_parse(buf, len, "stdin", err, errlen);
	free(buf);
	return yj;
}

/* a List document's items, as resource_load() takes them */
static const json_t *
res_list_items(const json_t *v)
{
	const char *kind = json_string_value(json_object_get(v, "kind"));
	const json_t *items = json_object_get(v, "items");
	size_t n;

	if (json_is_array(v))
		return v;
	if (kind == NULL || !json_is_array(items))
		return NULL;
	n = strlen(kind);
	return n >= 4 && strcmp(kind + n - 4, "List") == 0 ? items : NULL;
}

/*
 * Which document and path each loaded resource came from: resource_load()
 * walks the documents in this order, a list's items in theirs.
 */
static int
res_locate(const struct yamljson *yj, struct res_item *items, size_t n)
{
	const struct yamljson_doc *d;
	const json_t *list;
	size_t i, j, k = 0;

	for (i = 0; i < yj->ndocs; i++) {
		d = &yj->docs[i];
		if ((list = res_list_items(d->value)) == NULL) {
			if (k < n) {
				items[k].doc = d;
				items[k++].path[0] = '\0';
			}
			continue;
		}
		for (j = 0; j < json_array_size(list) && k < n; j++) {
			items[k].doc = d;
			snprintf(items[k++].path, sizeof(items[0].path),
			    "%s[%zu]", list == d->value ? "" : "items", j);
		}
	}
	return k == n ? 0 : -1;
}

/*
 * A namespaced resource without metadata.namespace goes to -n NS, else
 * "default", as calicoctl does; before decoding, which requires it.
 */
static void
res_default_ns(struct yamljson *yj, const char *ns)
{
	const struct model_kind_info *k;
	json_t *list, *item, *meta;
	const char *kind;
	size_t i, j, n;

	for (i = 0; i < yj->ndocs; i++) {
		list = (json_t *)res_list_items(yj->docs[i].value);
		n = list != NULL ? json_array_size(list) : 1;
		for (j = 0; j < n; j++) {
			item = list != NULL ? json_array_get(list, j)
			                    : yj->docs[i].value;
			kind = json_string_value(json_object_get(item, "kind"));
			meta = json_object_get(item, "metadata");
			if (kind == NULL || !json_is_object(meta) ||
			    (k = model_kind_by_name(kind)) == NULL ||
			    !k->namespaced ||
			    json_object_get(meta, "namespace") != NULL)
				continue;
			json_object_set_new(meta, "namespace", json_string(ns));
		}
	}
}

/* ---- reading what is stored ---- */

static void
res_item_forget(struct res_item *it)
{
	json_decref(it->cur);
	it->cur = NULL;
	free(it->value);
	it->value = NULL;
	it->exists = false;
	it->mod = 0;
	it->write = W_NONE;
	it->skipped = it->unchanged = it->has_cmp = false;
}

static int
res_read(struct res_run *run)
{
	struct etcd_result res;
	struct res_item *it;
	size_t i;

	for (i = 0; i < run->n; i++) {
		it = &run->items[i];
		res_item_forget(it);
		if (etcd_get(run->etcd, it->key, &res) == -1) {
			fprintf(
			    stderr, "podmeshctl: %s\n", etcd_error(run->etcd));
			return -1;
		}
		if (res.nkvs == 1) {
			it->exists = true;
			it->mod = res.kvs[0].mod_revision;
			it->cur = json_loadb(
			    res.kvs[0].value, res.kvs[0].value_len, 0, NULL);
		}
		etcd_result_clean(&res);
	}
	return 0;
}

/* ---- checks ---- */

static const char *
res_meta_str(const json_t *v, const char *field)
{
	return json_string_value(
	    json_object_get(json_object_get(v, "metadata"), field));
}

/* an IPPool's cidr and blockSize are fixed once it exists (libcalico-go) */
static void
res_check_pool_update(struct res_run *run, struct res_item *it)
{
	const json_t *spec = json_object_get(it->cur, "spec");
	const char *cidr = json_string_value(json_object_get(spec, "cidr"));
	json_int_t bs = json_integer_value(json_object_get(spec, "blockSize"));
	struct prefix old;
	char buf[PREFIX_STRLEN];

	if (cidr != NULL && model_prefix_parse(cidr, &old) == 0) {
		prefix_mask(&old);
		if (prefix_cmp(&old, &it->r.ippool.cidr) != 0)
			res_error(run, it, "spec.cidr",
			    "%s: an IPPool's CIDR cannot be changed (it is "
			    "%s; create a new pool instead)",
			    it->id, prefix_ntop(&old, buf, sizeof(buf)));
	}
	if (bs != 0 && bs != it->r.ippool.block_size)
		res_error(run, it, "spec.blockSize",
		    "%s: an IPPool's block size cannot be changed (it is "
		    "%" JSON_INTEGER_FORMAT ")",
		    it->id, bs);
}

/*
 * Pools must not overlap (libcalico-go's IPPool validation): the pools of
 * the file against each other and against the stored ones they do not
 * replace.
 */
static int
res_check_pool_overlap(struct res_run *run)
{
	struct etcd_result res;
	struct resource r;
	struct res_item *it, *o;
	char prefix[512], err[MODEL_ERRLEN], a[PREFIX_STRLEN], b[PREFIX_STRLEN];
	size_t i, j;
	bool any = false;

	for (i = 0; i < run->n; i++)
		if (run->items[i].r.kind == MODEL_IPPOOL &&
		    run->items[i].write == W_PUT)
			any = true;
	if (!any)
		return 0;
	for (i = 0; i < run->n; i++) {
		it = &run->items[i];
		if (it->r.kind != MODEL_IPPOOL || it->write != W_PUT)
			continue;
		for (j = 0; j < i; j++) {
			o = &run->items[j];
			if (o->r.kind != MODEL_IPPOOL || o->write != W_PUT ||
			    o->r.ippool.cidr.a.family !=
			        it->r.ippool.cidr.a.family)
				continue;
			if (prefix_covers(
			        &o->r.ippool.cidr, &it->r.ippool.cidr) ||
			    prefix_covers(
			        &it->r.ippool.cidr, &o->r.ippool.cidr))
				res_error(run, it, "spec.cidr",
				    "%s CIDR %s overlaps with %s CIDR %s",
				    it->id,
				    prefix_ntop(
				        &it->r.ippool.cidr, a, sizeof(a)),
				    o->id,
				    prefix_ntop(
				        &o->r.ippool.cidr, b, sizeof(b)));
		}
	}
	model_key_prefix(MODEL_IPPOOL, NULL, prefix, sizeof(prefix));
	if (etcd_list(run->etcd, prefix, 0, &res) == -1) {
		fprintf(stderr, "podmeshctl: %s\n", etcd_error(run->etcd));
		return -1;
	}
	for (j = 0; j < res.nkvs; j++) {
		if (get_decode_kv(&res.kvs[j], &r, err, sizeof(err)) == -1 ||
		    r.kind != MODEL_IPPOOL) {
			resource_clean(&r);
			continue;
		}
		for (i = 0; i < run->n; i++) {
			it = &run->items[i];
			if (it->r.kind != MODEL_IPPOOL || it->write != W_PUT ||
			    strcmp(it->r.meta.name, r.meta.name) == 0 ||
			    r.ippool.cidr.a.family !=
			        it->r.ippool.cidr.a.family)
				continue;
			if (prefix_covers(&r.ippool.cidr, &it->r.ippool.cidr) ||
			    prefix_covers(&it->r.ippool.cidr, &r.ippool.cidr))
				res_error(run, it, "spec.cidr",
				    "%s CIDR %s overlaps with IPPool(%s) CIDR "
				    "%s",
				    it->id,
				    prefix_ntop(
				        &it->r.ippool.cidr, a, sizeof(a)),
				    r.meta.name,
				    prefix_ntop(&r.ippool.cidr, b, sizeof(b)));
		}
		resource_clean(&r);
	}
	etcd_result_clean(&res);
	return 0;
}

/* a random (version 4) UUID, as Kubernetes gives every object */
static char *
res_uuid(void)
{
	uint8_t u[16];
	char *s;
	size_t off = 0;
	ssize_t n;

	while (off < sizeof(u)) {
		if ((n = getrandom(u + off, sizeof(u) - off, 0)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		off += n;
	}
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	xasprintf(&s,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
	    u[11], u[12], u[13], u[14], u[15]);
	return s;
}

/* RFC 3339 in UTC, as Go's metav1.Time marshals */
static char *
res_now(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

static void
res_set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v != NULL ? xstrdup(v) : NULL;
}

/* the value to store: no resourceVersion; uid and time kept or made */
static void
res_value(struct res_item *it)
{
	const char *uid = NULL, *cts = NULL;
	json_t *j;

	if (it->exists && it->cur != NULL) {
		uid = res_meta_str(it->cur, "uid");
		cts = res_meta_str(it->cur, "creationTimestamp");
	}
	if (uid != NULL)
		res_set_str(&it->r.meta.uid, uid);
	else if (it->r.meta.uid == NULL)
		it->r.meta.uid = res_uuid();
	if (cts != NULL)
		res_set_str(&it->r.meta.creation_timestamp, cts);
	else if (it->r.meta.creation_timestamp == NULL)
		it->r.meta.creation_timestamp = res_now();
	j = resource_encode(&it->r, MODEL_NO_RV);
	if (it->exists && it->cur != NULL && json_equal(j, it->cur))
		it->unchanged = true;
	it->value = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (it->value == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(j);
}

/* the resourceVersion given must be the stored one */
static bool
res_check_rv(struct res_run *run, struct res_item *it)
{
	char now[32];

	if (it->given_rv == NULL)
		return true;
	snprintf(now, sizeof(now), "%" PRId64, it->mod);
	if (strcmp(it->given_rv, now) == 0)
		return true;
	res_error(run, it, "metadata.resourceVersion",
	    "update conflict: %s is at resourceVersion %s, not %s (it changed "
	    "since it was read)",
	    it->id, now, it->given_rv);
	return false;
}

static void
res_check_one(struct res_run *run, struct res_item *it)
{
	bool update = false;

	switch (run->act) {
	case ACT_CREATE:
		if (it->exists) {
			if (run->ctl->skip_exists)
				it->skipped = true;
			else
				res_error(run, it, "metadata.name",
				    "resource already exists: %s", it->id);
			return;
		}
		break;
	case ACT_APPLY:
		update = it->exists;
		break;
	case ACT_REPLACE:
		if (!it->exists) {
			res_error(run, it, "metadata.name",
			    "resource does not exist: %s", it->id);
			return;
		}
		update = true;
		break;
	case ACT_DELETE:
		if (!it->exists) {
			if (run->ctl->skip_not_exists)
				it->skipped = true;
			else
				res_error(run, it, "metadata.name",
				    "resource does not exist: %s", it->id);
			return;
		}
		if (!res_check_rv(run, it))
			return;
		it->write = W_DELETE;
		it->has_cmp = true;
		it->cmp.target = ETCD_CMP_MOD;
		it->cmp.number = it->mod;
		return;
	}
	if (update) {
		if (!res_check_rv(run, it))
			return;
		if (it->r.kind == MODEL_IPPOOL)
			res_check_pool_update(run, it);
		it->cmp.target = ETCD_CMP_MOD;
		it->cmp.number = it->mod;
	} else {
		it->cmp.target = ETCD_CMP_CREATE;
		it->cmp.number = 0;
	}
	it->has_cmp = true;
	res_value(it);
	it->write = it->unchanged ? W_NONE : W_PUT;
}

static int
res_check(struct res_run *run)
{
	size_t i;

	run->nerrors = 0;
	for (i = 0; i < run->n; i++) {
		run->items[i].cmp.key = run->items[i].key;
		run->items[i].cmp.result = ETCD_CMP_EQUAL;
		res_check_one(run, &run->items[i]);
	}
	if (run->act != ACT_DELETE && res_check_pool_overlap(run) == -1)
		return -1;
	return run->nerrors == 0 ? 0 : -1;
}

/* ---- writing ---- */

static void
res_op(const struct res_item *it, struct etcd_op *op)
{
	memset(op, 0, sizeof(*op));
	op->key = it->key;
	if (it->write == W_PUT) {
		op->type = ETCD_OP_PUT;
		op->value = it->value;
	} else
		op->type = ETCD_OP_DELETE;
}

/* does etcd refuse this transaction for its size? */
static bool
res_too_big(const struct etcd *e)
{
	const struct etcd_error *ee = etcd_last_error(e);

	return ee->kind == ETCD_E_SERVER &&
	    (strstr(ee->msg, "too many operations") != NULL ||
	        strstr(ee->msg, "request is too large") != NULL ||
	        ee->http_status == 413);
}

/* 1 written, 0 a compare failed, -1 error, 2 too big for one txn */
static int
res_txn(struct res_run *run)
{
	struct etcd_cmp *cmps;
	struct etcd_op *ops;
	struct etcd_txn txn;
	struct etcd_result res;
	size_t i, ncmp = 0, nops = 0, bytes = 0;
	bool all_cmps;
	int rc;

	cmps = xcalloc(run->n + 1, sizeof(*cmps));
	ops = xcalloc(run->n + 1, sizeof(*ops));
	for (i = 0; i < run->n; i++)
		nops += run->items[i].write != W_NONE;
	/*
	 * Unchanged resources keep their compare (the file is then checked
	 * and applied at one revision) unless that makes the txn too long:
	 * a write needs its compare, an unchanged resource does not.
	 */
	for (i = 0; i < run->n; i++)
		ncmp += run->items[i].has_cmp;
	all_cmps = ncmp <= RES_TXN_MAX_OPS;
	ncmp = nops = 0;
	for (i = 0; i < run->n; i++) {
		if (run->items[i].has_cmp &&
		    (all_cmps || run->items[i].write != W_NONE))
			cmps[ncmp++] = run->items[i].cmp;
		if (run->items[i].write != W_NONE) {
			res_op(&run->items[i], &ops[nops++]);
			bytes += 2 * strlen(run->items[i].key) + 64 +
			    (run->items[i].value != NULL
			            ? strlen(run->items[i].value)
			            : 0);
		}
	}
	bytes = bytes * 4 / 3;
	if (ncmp > RES_TXN_MAX_OPS || nops > RES_TXN_MAX_OPS ||
	    bytes > RES_TXN_MAX_BYTES) {
		rc = 2;
		goto done;
	}
	if (ncmp == 0 && nops == 0) {
		rc = 1;
		goto done;
	}
	memset(&txn, 0, sizeof(txn));
	txn.cmp = cmps;
	txn.ncmp = ncmp;
	txn.success = ops;
	txn.nsuccess = nops;
	if (etcd_txn(run->etcd, &txn, &res) == -1) {
		if (res_too_big(run->etcd))
			rc = 2;
		else {
			fprintf(
			    stderr, "podmeshctl: %s\n", etcd_error(run->etcd));
			rc = -1;
		}
		goto done;
	}
	rc = res.succeeded ? 1 : 0;
	etcd_result_clean(&res);
done:
	free(cmps);
	free(ops);
	return rc;
}

/* one by one, each with its compare; the count of failures */
static int
res_one_by_one(struct res_run *run, size_t *written)
{
	struct etcd_result res;
	struct etcd_txn txn;
	struct etcd_op op;
	struct res_item *it;
	size_t i, nops = 0;
	int failed = 0;

	for (i = 0; i < run->n; i++)
		nops += run->items[i].write != W_NONE;
	*written = 0;
	if (nops == 0)
		return 0; /* only compares, which the read already made */
	printf("Note: %zu writes are more than one etcd transaction "
	       "takes (%d operations, %d KiB); writing them one at a time: "
	       "an error part-way leaves the ones before it written\n",
	    nops, RES_TXN_MAX_OPS, RES_TXN_MAX_BYTES / 1024);
	fflush(stdout);
	for (i = 0; i < run->n; i++) {
		it = &run->items[i];
		if (it->write == W_NONE)
			continue;
		res_op(it, &op);
		memset(&txn, 0, sizeof(txn));
		txn.cmp = &it->cmp;
		txn.ncmp = 1;
		txn.success = &op;
		txn.nsuccess = 1;
		if (etcd_txn(run->etcd, &txn, &res) == -1) {
			res_error(run, it, "metadata.name", "%s: not %s: %s",
			    it->id, res_words[run->act].done,
			    etcd_error(run->etcd));
			failed++;
			continue;
		}
		if (!res.succeeded) {
			res_error(run, it, "metadata.name",
			    "%s: not %s: it changed since it was read", it->id,
			    res_words[run->act].done);
			failed++;
		} else
			(*written)++;
		etcd_result_clean(&res);
	}
	return failed;
}

/* "Successfully applied 3 'IPPool' resource(s)", as calicoctl */
static void
res_summary(struct res_run *run, size_t done, size_t of)
{
	const char *kind = NULL;
	size_t i, skipped = 0, unchanged = 0;

	for (i = 0; i < run->n; i++) {
		if (kind == NULL)
			kind = model_kind(run->items[i].r.kind)->name;
		else if (strcmp(kind, model_kind(run->items[i].r.kind)->name) !=
		    0)
			kind = "";
		skipped += run->items[i].skipped;
		unchanged += run->items[i].unchanged;
	}
	printf("Successfully %s ", res_words[run->act].done);
	if (done != of)
		printf("%zu of ", done);
	if (kind != NULL && *kind != '\0')
		printf("%zu '%s' resource(s)", of, kind);
	else
		printf("%zu resource(s)", of);
	if (unchanged > 0)
		printf(", %zu unchanged", unchanged);
	if (skipped > 0)
		printf(", %zu skipped (%s)", skipped,
		    run->act == ACT_DELETE ? "did not exist" : "existed");
	printf("\n");
}

static int
res_run(struct res_run *run)
{
	size_t written = 0, i, nops;
	int attempt, rc, failed;

	if ((run->etcd = ctl_etcd(run->ctl)) == NULL)
		return -1;
	for (i = 0; i < run->n; i++) {
		if (resource_key(&run->items[i].r, run->items[i].key,
		        sizeof(run->items[i].key)) == -1) {
			res_error(run, &run->items[i], "metadata.name",
			    "%s: cannot make an etcd key of this name",
			    run->items[i].id);
			return -1;
		}
	}
	for (attempt = 0; attempt < RES_RETRIES; attempt++) {
		if (res_read(run) == -1)
			return -1;
		if (res_check(run) == -1)
			return -1;
		if ((rc = res_txn(run)) == 1) {
			res_summary(run, run->n, run->n);
			return 0;
		}
		if (rc == -1)
			return -1;
		if (rc == 2) {
			run->partial = true;
			failed = res_one_by_one(run, &written);
			for (nops = 0, i = 0; i < run->n; i++)
				nops += run->items[i].write != W_NONE;
			res_summary(run, run->n - failed, run->n);
			if (failed > 0)
				fprintf(stderr,
				    "podmeshctl: %d of %zu writes failed, %zu "
				    "written\n",
				    failed, nops, written);
			return failed == 0 ? 0 : -1;
		}
		/* a compare failed: someone wrote meanwhile; look again */
	}
	fprintf(stderr,
	    "podmeshctl: the resources kept changing while being %s (%d "
	    "tries)\n",
	    res_words[run->act].done, RES_RETRIES);
	return -1;
}

static void
res_run_clean(struct res_run *run)
{
	size_t i;

	for (i = 0; i < run->n; i++) {
		res_item_forget(&run->items[i]);
		free(run->items[i].given_rv);
		resource_clean(&run->items[i].r);
	}
	free(run->items);
	run->items = NULL;
	run->n = 0;
}

static int
res_from_file(struct ctl *ctl, enum res_action act)
{
	struct res_run run;
	struct yamljson *yj;
	struct resource *rs;
	char err[2048];
	size_t n, i;
	int rc;

	if (ctl->file == NULL) {
		fprintf(stderr,
		    "podmeshctl: %s needs -f FILE (- for standard input)\n",
		    res_words[act].verb);
		return 2;
	}
	if ((yj = res_read_file(ctl->file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\npodmeshctl: nothing was written\n", err);
		return -1;
	}
	res_default_ns(yj, ctl->namespace != NULL ? ctl->namespace : "default");
	if (resource_load(yj, MODEL_STRICT, &rs, &n, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\npodmeshctl: nothing was written\n", err);
		yamljson_free(yj);
		return -1;
	}
	if (n == 0) {
		fprintf(
		    stderr, "podmeshctl: %s: no resources in it\n", yj->name);
		yamljson_free(yj);
		free(rs);
		return -1;
	}
	memset(&run, 0, sizeof(run));
	run.ctl = ctl;
	run.act = act;
	run.file = yj->name;
	run.n = n;
	run.items = xcalloc(n, sizeof(*run.items));
	for (i = 0; i < n; i++) {
		run.items[i].r = rs[i];
		/* create ignores a resourceVersion; the others honour it */
		if (act == ACT_CREATE)
			free(rs[i].meta.resource_version);
		else
			run.items[i].given_rv = rs[i].meta.resource_version;
		run.items[i].r.meta.resource_version = NULL;
		res_id(&run.items[i]);
	}
	free(rs);
	if (res_locate(yj, run.items, n) == -1)
		fatalx("%s: documents and resources do not match", __func__);
	rc = res_run(&run);
	if (rc != 0 && run.nerrors > 0 && !run.partial)
		fprintf(stderr,
		    "podmeshctl: %s: %d error%s; nothing was "
		    "written\n",
		    yj->name, run.nerrors, run.nerrors == 1 ? "" : "s");
	res_run_clean(&run);
	yamljson_free(yj);
	return rc;
}

static int
res_create(struct ctl *ctl, int argc, char **argv)
{
	return res_from_file(ctl, ACT_CREATE);
}

static int
res_apply(struct ctl *ctl, int argc, char **argv)
{
	return res_from_file(ctl, ACT_APPLY);
}

static int
res_replace(struct ctl *ctl, int argc, char **argv)
{
	return res_from_file(ctl, ACT_REPLACE);
}

/* delete -f FILE, or delete KIND NAME */
static int
res_delete(struct ctl *ctl, int argc, char **argv)
{
	const struct model_kind_info *k;
	struct res_run run;
	struct res_item it;
	const char *ns;
	int rc;

	if (argc == 0)
		return res_from_file(ctl, ACT_DELETE);
	if (ctl->file != NULL || argc != 2) {
		fprintf(stderr,
		    "podmeshctl: delete takes -f FILE or KIND "
		    "NAME\n");
		return 2;
	}
	if ((k = model_kind_lookup(argv[0])) == NULL) {
		fprintf(stderr,
		    "podmeshctl: unknown resource type '%s'; 'podmeshctl get "
		    "--help' lists the kinds\n",
		    argv[0]);
		return -1;
	}
	if (ctl->all_namespaces) {
		fprintf(stderr, "podmeshctl: delete needs one namespace\n");
		return 2;
	}
	ns = k->namespaced ? get_namespace(ctl) : NULL;
	memset(&it, 0, sizeof(it));
	resource_init(&it.r, k->kind);
	it.r.meta.name = xstrdup(argv[1]);
	it.r.meta.namespace = ns != NULL ? xstrdup(ns) : NULL;
	res_id(&it);
	memset(&run, 0, sizeof(run));
	run.ctl = ctl;
	run.act = ACT_DELETE;
	run.items = xcalloc(1, sizeof(*run.items));
	run.items[0] = it;
	run.n = 1;
	rc = res_run(&run);
	res_run_clean(&run);
	return rc;
}

static void
res_more_help(FILE *out)
{
	fprintf(out,
	    "A file is all or nothing: every document is decoded and checked, "
	    "and every\n"
	    "resource against what etcd holds, before anything is written; "
	    "then the writes\n"
	    "go in one etcd transaction that fails as a whole if any of them "
	    "changed\n"
	    "meanwhile.  Errors read FILE:LINE: document N: FIELD: message.  "
	    "Only files of\n"
	    "more than %d writes (etcd's transaction limit) are written one "
	    "resource at a\n"
	    "time, which the output says first.\n\n",
	    RES_TXN_MAX_OPS);
	get_kinds_help(out);
}

const struct ctl_cmd resource_cmds[] = {
    {
        .group = "create",
        .args = "-f FILE",
        .help = "create the resources of FILE; none may exist yet, unless "
                "--skip-exists",
        .opts = CTL_O_CONFIG | CTL_O_FILE | CTL_O_NAMESPACE | CTL_O_SKIP_EXISTS,
        .exec = res_create,
        .more_help = res_more_help,
    },
    {
        .group = "apply",
        .args = "-f FILE",
        .help = "create the resources of FILE, or update those that exist "
                "(keeping their uid and creationTimestamp); one equal to "
                "the stored one is left as it is",
        .opts = CTL_O_CONFIG | CTL_O_FILE | CTL_O_NAMESPACE,
        .exec = res_apply,
        .more_help = res_more_help,
    },
    {
        .group = "replace",
        .args = "-f FILE",
        .help = "update the resources of FILE; each must exist, and a "
                "metadata.resourceVersion given must still be the stored "
                "one",
        .opts = CTL_O_CONFIG | CTL_O_FILE | CTL_O_NAMESPACE,
        .exec = res_replace,
        .more_help = res_more_help,
    },
    {
        .group = "delete",
        .args = "(-f FILE | KIND NAME)",
        .help = "delete the resources of FILE, or the one of KIND named "
                "NAME; each must exist unless --skip-not-exists, and a "
                "metadata.resourceVersion in FILE must still be the stored "
                "one",
        .maxargs = 2,
        .opts =
            CTL_O_CONFIG | CTL_O_FILE | CTL_O_NAMESPACE | CTL_O_SKIP_NOT_EXISTS,
        .exec = res_delete,
        .more_help = res_more_help,
    },
};

const size_t resource_ncmds = sizeof(resource_cmds) / sizeof(resource_cmds[0]);
