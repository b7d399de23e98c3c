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
 * fail as a whole; it is then read and checked again.
 *
 * etcd bounds a transaction: 128 operations (--max-txn-ops) and 1.5 MiB
 * (--max-request-bytes), measured on the protobuf request, not on the
 * gateway's base64 JSON, so that is what is counted here.  A resource
 * too big for any request is an error found with the others, before
 * anything is written.  A file whose writes do not fit one transaction
 * together is refused, unless --allow-partial: then they go in several,
 * each with its compares, which the output says before it starts.
 *
 * Deleting an IPPool disables it, releases its blocks' affinities
 * (ipam_pool.c) and then deletes it, as libcalico-go does; see
 * res_pools().
 *
 * An apply whose value equals the stored one writes nothing for it (its
 * compare stays in the transaction), so applying what `get -o yaml`
 * printed changes nothing, not even revisions.
 */
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
#include "store/ipam.h"
#include "store/model.h"
#include "store/yamljson.h"
#include "ctl/ctl.h"

#define RES_TXN_MAX_OPS 128 /* etcd's --max-txn-ops default */
#define RES_MAX_REQUEST (1536 * 1024) /* its --max-request-bytes default */
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
	bool pool_released; /* an IPPool to delete: disabled, blocks freed */
};

struct res_run {
	struct ctl *ctl;
	enum res_action act;
	struct etcd *etcd;
	const char *file;
	struct res_item *items;
	size_t n;
	int nerrors;
	bool partial; /* written in parts: errors no longer mean nothing */
	bool etcd_refused; /* the last txn: etcd found it too large */
};

static void res_check_size(struct res_run *, struct res_item *);

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
		it->r.meta.uid = model_uid_new();
	if (cts != NULL)
		res_set_str(&it->r.meta.creation_timestamp, cts);
	else if (it->r.meta.creation_timestamp == NULL)
		it->r.meta.creation_timestamp = model_timestamp_now();
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
		res_check_size(run, &run->items[i]);
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

/*
 * The size etcd measures a request by: the protobuf encoding of its
 * InternalRaftRequest (a RequestHeader and the TxnRequest), which must
 * not exceed --max-request-bytes.  Keys and values count as their bytes
 * (the gateway's base64 is undone before), each field adds its tag and
 * length; counted as an upper bound (enums and numbers as if present).
 */
static size_t
res_pb_varint(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* a length-delimited field of number < 16 */
static size_t
res_pb_field(size_t len)
{
	return 1 + res_pb_varint(len) + len;
}

/* a Compare, as TxnRequest.compare */
static size_t
res_pb_cmp(const struct etcd_cmp *c)
{
	size_t n = 2 + 2 + res_pb_field(strlen(c->key));

	n += 1 + res_pb_varint((uint64_t)c->number);
	return res_pb_field(n);
}

/* a PutRequest or DeleteRangeRequest in a RequestOp, as .success */
static size_t
res_pb_op(const struct res_item *it)
{
	size_t n = res_pb_field(strlen(it->key));

	if (it->write == W_PUT)
		n += res_pb_field(strlen(it->value));
	return res_pb_field(res_pb_field(n));
}

/* the InternalRaftRequest around a TxnRequest of txn bytes */
static size_t
res_pb_request(const struct res_run *run, size_t txn)
{
	const char *user = run->ctl->ds != NULL ? run->ctl->ds->username : NULL;
	/* RequestHeader: ID, auth_revision (varints), username */
	size_t hdr = 11 + 11 + (user != NULL ? res_pb_field(strlen(user)) : 0);

	return 2 + res_pb_varint(hdr) + hdr + res_pb_field(txn);
}

/* what an item adds to a TxnRequest: its compare (if sent) and its write */
static size_t
res_item_bytes(const struct res_item *it, bool all)
{
	size_t n = 0;

	if (it->has_cmp && (all || it->write != W_NONE))
		n += res_pb_cmp(&it->cmp);
	if (it->write != W_NONE)
		n += res_pb_op(it);
	return n;
}

/* a write etcd cannot take whatever the transaction: an error, up front */
static void
res_check_size(struct res_run *run, struct res_item *it)
{
	size_t bytes;

	if (it->write == W_NONE)
		return;
	bytes = res_pb_request(run, res_item_bytes(it, false));
	if (bytes > RES_MAX_REQUEST)
		res_error(run, it, "metadata.name",
		    "%s: %zu bytes to write, more than etcd takes in one "
		    "request (%d bytes, its --max-request-bytes default)",
		    it->id, bytes, RES_MAX_REQUEST);
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

/*
 * One txn of items [from, to): their writes and the compares of those
 * (all: of the unchanged ones too).  1 written, 0 a compare failed, -1
 * error, 2 too big (for our count, or etcd refused it as such).
 */
static int
res_send(struct res_run *run, size_t from, size_t to, bool all)
{
	struct etcd_cmp *cmps;
	struct etcd_op *ops;
	struct etcd_txn txn;
	struct etcd_result res;
	struct res_item *it;
	size_t i, ncmp = 0, nops = 0, bytes = 0;
	int rc;

	cmps = xcalloc(to - from + 1, sizeof(*cmps));
	ops = xcalloc(to - from + 1, sizeof(*ops));
	for (i = from; i < to; i++) {
		it = &run->items[i];
		if (it->has_cmp && (all || it->write != W_NONE))
			cmps[ncmp++] = it->cmp;
		if (it->write != W_NONE)
			res_op(it, &ops[nops++]);
		bytes += res_item_bytes(it, all);
	}
	bytes = res_pb_request(run, bytes);
	if (ncmp > RES_TXN_MAX_OPS || nops > RES_TXN_MAX_OPS ||
	    bytes > RES_MAX_REQUEST) {
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
		if (res_too_big(run->etcd)) {
			run->etcd_refused = true;
			rc = 2;
		} else {
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

/*
 * The whole file in one txn.  Unchanged resources keep their compare
 * (the file is then checked and written at one revision) unless that
 * makes the txn too big: a write needs its compare, an unchanged resource
 * does not.
 */
static int
res_txn(struct res_run *run)
{
	size_t i;
	int rc;

	run->etcd_refused = false;
	if ((rc = res_send(run, 0, run->n, true)) != 2)
		return rc;
	for (i = 0; i < run->n; i++)
		if (run->items[i].has_cmp && run->items[i].write == W_NONE)
			return res_send(run, 0, run->n, false);
	return 2;
}

/* the writes and their bytes, for messages */
static size_t
res_nwrites(const struct res_run *run, size_t *bytes)
{
	size_t i, n = 0;

	*bytes = 0;
	for (i = 0; i < run->n; i++)
		if (run->items[i].write != W_NONE) {
			n++;
			*bytes += res_item_bytes(&run->items[i], false);
		}
	*bytes = res_pb_request(run, *bytes);
	return n;
}

/*
 * --allow-partial: the writes in several txns, in file order, each as
 * long as fits (max writes at most; halved when etcd refuses one as too
 * big, as an etcd with lower limits does).  The first failure stops it:
 * the txns before stay written.  0, or -1 after a message.
 */
static int
res_partial(struct res_run *run, size_t *written, size_t *ntxn)
{
	size_t from = 0, to, nw, bytes, b, max = RES_TXN_MAX_OPS;
	struct res_item *it;
	int rc;

	*written = *ntxn = 0;
	while (from < run->n) {
		for (to = from, nw = 0, bytes = 0; to < run->n; to++) {
			it = &run->items[to];
			if (it->write == W_NONE)
				continue;
			b = res_item_bytes(it, false);
			if (nw > 0 &&
			    (nw + 1 > max ||
			        res_pb_request(run, bytes + b) >
			            RES_MAX_REQUEST))
				break;
			nw++;
			bytes += b;
		}
		if (nw == 0)
			break;
		if ((rc = res_send(run, from, to, false)) == 2) {
			if (nw == 1) {
				fprintf(stderr,
				    "podmeshctl: etcd refused a single write "
				    "as too large: %s\n",
				    etcd_error(run->etcd));
				return -1;
			}
			max = nw / 2;
			continue;
		}
		if (rc == -1)
			return -1;
		if (rc == 0) {
			fprintf(stderr,
			    "podmeshctl: transaction %zu (%zu writes) not "
			    "written: a resource in it changed since it was "
			    "read; run the command again\n",
			    *ntxn + 1, nw);
			return -1;
		}
		*written += nw;
		(*ntxn)++;
		from = to;
	}
	return 0;
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

/* too big for one txn: refused, or (--allow-partial) written in parts */
static int
res_too_big_run(struct res_run *run)
{
	size_t nw, bytes, written, ntxn;

	nw = res_nwrites(run, &bytes);
	if (!run->ctl->allow_partial) {
		fprintf(stderr,
		    "podmeshctl: %s: %zu writes (%zu bytes) do not fit one "
		    "etcd transaction (%s); nothing was written\n"
		    "podmeshctl: --allow-partial writes them in several "
		    "transactions, each all or nothing: an error part-way "
		    "leaves the ones before it written\n",
		    run->file != NULL ? run->file : "podmeshctl", nw, bytes,
		    run->etcd_refused
		        ? "etcd refused it as too large: its --max-txn-ops "
		          "or --max-request-bytes is below the defaults"
		        : "etcd takes 128 operations and 1572864 bytes by "
		          "default");
		return -1;
	}
	run->partial = true;
	printf("Note: %zu writes (%zu bytes) are more than one etcd "
	       "transaction takes; writing them in several (--allow-partial): "
	       "an error part-way leaves the ones before it written\n",
	    nw, bytes);
	fflush(stdout);
	if (res_partial(run, &written, &ntxn) == -1) {
		fprintf(stderr,
		    "podmeshctl: %zu of %zu writes were written, in %zu "
		    "transaction%s\n",
		    written, nw, ntxn, ntxn == 1 ? "" : "s");
		return -1;
	}
	res_summary(run, run->n, run->n);
	return 0;
}

/* ---- IPPool deletion ---- */

/* the CIDR of a stored pool, from the value read */
static int
res_pool_cidr(const struct res_item *it, struct prefix *p)
{
	const char *s = json_string_value(
	    json_object_get(json_object_get(it->cur, "spec"), "cidr"));

	if (s == NULL || model_prefix_parse(s, p) == -1)
		return -1;
	prefix_mask(p);
	return 0;
}

/* spec.disabled: true, compared against the mod_revision read */
static int
res_pool_disable(struct res_run *run, struct res_item *it)
{
	struct etcd_result res;
	json_t *v, *spec;
	char *val;
	int rc;

	spec = json_object_get(it->cur, "spec");
	if (json_is_true(json_object_get(spec, "disabled")))
		return 0;
	v = json_deep_copy(it->cur);
	json_object_set_new(
	    json_object_get(v, "spec"), "disabled", json_true());
	val = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (val == NULL)
		fatalx("%s: json_dumps", __func__);
	rc = etcd_cas_put(
	    run->etcd, it->key, val, strlen(val), it->mod, 0, &res);
	free(val);
	if (rc == -1) {
		fprintf(stderr, "podmeshctl: %s\n", etcd_error(run->etcd));
		return -1;
	}
	etcd_result_clean(&res);
	if (rc == 0)
		printf("%s: disabled, so that nothing allocates from it\n",
		    it->id);
	return rc; /* 1: changed since read */
}

/*
 * Before the pools of a delete go: each is checked (every block inside it
 * decodes), then disabled and its blocks released (ipam_pool.c), as
 * calicoctl does.  0: nothing (more) to do; 1: done now, read and check
 * again (the pools' revisions moved); -1 after a message.
 */
static int
res_pools(struct res_run *run)
{
	struct ipam_pool_release out;
	struct res_item *it;
	struct prefix cidr;
	size_t i;
	bool any = false;
	int rc;

	for (i = 0; i < run->n; i++) {
		it = &run->items[i];
		if (it->r.kind != MODEL_IPPOOL || it->write != W_DELETE ||
		    it->pool_released)
			continue;
		if (res_pool_cidr(it, &cidr) == -1) {
			res_error(run, it, "metadata.name",
			    "%s: the stored pool has no valid spec.cidr, so "
			    "its blocks cannot be found and released; not "
			    "deleted",
			    it->id);
			return -1;
		}
		if (ipam_pool_check(run->etcd, &cidr, it->id) == -1) {
			run->nerrors++;
			return -1;
		}
		any = true;
	}
	if (!any)
		return 0;
	for (i = 0; i < run->n; i++) {
		it = &run->items[i];
		if (it->r.kind != MODEL_IPPOOL || it->write != W_DELETE ||
		    it->pool_released)
			continue;
		res_pool_cidr(it, &cidr);
		if ((rc = res_pool_disable(run, it)) != 0)
			return rc;
		/* checked against the value it was disabled from */
		free(it->given_rv);
		it->given_rv = NULL;
		run->partial = true;
		if (ipam_pool_release(run->etcd, &cidr, it->id, &out) == -1) {
			fprintf(stderr,
			    "podmeshctl: %s is disabled but not deleted\n",
			    it->id);
			return -1;
		}
		it->pool_released = true;
		printf("%s: released its blocks: %zu empty deleted, %zu "
		       "still holding %zu address%s kept without affinity, "
		       "%zu affinity key%s deleted\n",
		    it->id, out.blocks_deleted, out.blocks_kept, out.addrs_kept,
		    out.addrs_kept == 1 ? "" : "es", out.affs_deleted,
		    out.affs_deleted == 1 ? "" : "s");
	}
	return 1;
}

/*
 * After a Node is deleted, what calicoctl does to IPAM: its tunnel
 * addresses are released and its block affinities too (empty blocks go,
 * the others stay with their pods' addresses; `ipam check --fix` reclaims
 * those once the pods are gone).  A tunnel address the Node recorded (as
 * read before the delete) is released too when IPAM still has it for
 * that node without the handle: an older calico/node assigned it with
 * neither handle nor attributes.  Failures are reported, not fatal: the
 * node is gone either way.
 */
static void
res_nodes_ipam(struct res_run *run)
{
	static const struct {
		const char *handle, *type;
		const char *path[2]; /* where the Node records it */
	} tunnels[] = {
	    {"ipip-tunnel-addr-", "ipipTunnelAddress",
	        {"bgp", "ipv4IPIPTunnelAddr"}},
	    {"vxlan-tunnel-addr-", "vxlanTunnelAddress",
	        {"ipv4VXLANTunnelAddr", NULL}},
	};
	char handle[MODEL_NAME_MAX + 32], err[512], a[ADDR_STRLEN];
	const char *name, *rec;
	const json_t *v;
	struct ipam_owner o;
	struct res_item *it;
	struct ipam *ip;
	struct addr ra;
	size_t i, t;
	bool ours;
	int rc;

	for (i = 0; i < run->n; i++) {
		it = &run->items[i];
		if (it->r.kind != MODEL_NODE || it->write != W_DELETE)
			continue;
		name = it->r.meta.name;
		ip = ipam_new(run->etcd, name);
		for (t = 0; t < sizeof(tunnels) / sizeof(tunnels[0]); t++) {
			snprintf(handle, sizeof(handle), "%s%s",
			    tunnels[t].handle, name);
			if (ipam_release_handle(ip, handle, err, sizeof(err)) ==
			    -1)
				fprintf(stderr, "podmeshctl: %s: %s\n", it->id,
				    err);
			v = json_object_get(it->cur, "spec");
			v = json_object_get(v, tunnels[t].path[0]);
			if (tunnels[t].path[1] != NULL)
				v = json_object_get(v, tunnels[t].path[1]);
			if ((rec = json_string_value(v)) == NULL ||
			    model_addr_parse(rec, &ra) == -1)
				continue; /* none recorded */
			if ((rc = ipam_ip_owner(
			         ip, &ra, &o, err, sizeof(err))) == -1)
				fprintf(stderr, "podmeshctl: %s: %s\n", it->id,
				    err);
			if (rc != 0)
				continue; /* not assigned (any more) */
			ours = ipam_owner_tunnel(
			    &o, name, handle, tunnels[t].type);
			ipam_owner_clean(&o);
			if (!ours)
				continue;
			if (ipam_release_ip(ip, &ra, err, sizeof(err)) == -1)
				fprintf(stderr, "podmeshctl: %s: %s\n", it->id,
				    err);
			else
				printf("%s: its tunnel address %s, assigned "
				       "without handle %s, released\n",
				    it->id, addr_ntop(&ra, a, sizeof(a)),
				    handle);
		}
		if (ipam_remove_host(ip, name, err, sizeof(err)) == -1)
			fprintf(stderr, "podmeshctl: %s: %s\n", it->id, err);
		else
			printf("%s: its tunnel addresses and block affinities "
			       "released\n",
			    it->id);
		ipam_free(ip);
	}
}

static int
res_run(struct res_run *run)
{
	int attempt, rc;
	size_t i;

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
		if (run->act == ACT_DELETE) {
			if ((rc = res_pools(run)) == -1)
				return -1;
			if (rc == 1)
				continue; /* the pools moved: read again */
		}
		if ((rc = res_txn(run)) == 1) {
			res_summary(run, run->n, run->n);
			if (run->act == ACT_DELETE)
				res_nodes_ipam(run);
			return 0;
		}
		if (rc == -1)
			return -1;
		if (rc == 2)
			return res_too_big_run(run);
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
	    "A resource\n"
	    "larger than etcd takes in one request (%d bytes, its\n"
	    "--max-request-bytes default) is an error.  Writes that do not "
	    "fit one\n"
	    "transaction together (more than %d, etcd's --max-txn-ops "
	    "default, or more\n"
	    "than %d bytes) are refused, nothing written, unless\n"
	    "--allow-partial, which writes them in several transactions (the "
	    "output\n"
	    "says so first).\n"
	    "\n"
	    "Deleting an IPPool, as calicoctl does, first disables it (no new "
	    "addresses\n"
	    "come from it), then takes the affinity off every block inside "
	    "it, deleting\n"
	    "the empty ones and the blocks' affinity keys (one "
	    "compare-and-swap\n"
	    "transaction per block), then deletes it.  Blocks that still hold "
	    "addresses\n"
	    "stay, affine to no node, until their pods release them.  Those "
	    "steps stay\n"
	    "done if the deletion then fails; a block that does not decode "
	    "makes it\n"
	    "refuse before anything is written.\n\n",
	    RES_MAX_REQUEST, RES_TXN_MAX_OPS, RES_MAX_REQUEST);
	get_kinds_help(out);
}

const struct ctl_cmd resource_cmds[] = {
    {
        .group = "create",
        .args = "-f FILE",
        .help = "create the resources of FILE; none may exist yet, unless "
                "--skip-exists",
        .opts = CTL_O_CONFIG | CTL_O_FILE | CTL_O_NAMESPACE |
            CTL_O_SKIP_EXISTS | CTL_O_ALLOW_PARTIAL,
        .exec = res_create,
        .more_help = res_more_help,
    },
    {
        .group = "apply",
        .args = "-f FILE",
        .help = "create the resources of FILE, or update those that exist "
                "(keeping their uid and creationTimestamp); one equal to "
                "the stored one is left as it is",
        .opts =
            CTL_O_CONFIG | CTL_O_FILE | CTL_O_NAMESPACE | CTL_O_ALLOW_PARTIAL,
        .exec = res_apply,
        .more_help = res_more_help,
    },
    {
        .group = "replace",
        .args = "-f FILE",
        .help = "update the resources of FILE; each must exist, and a "
                "metadata.resourceVersion given must still be the stored "
                "one",
        .opts =
            CTL_O_CONFIG | CTL_O_FILE | CTL_O_NAMESPACE | CTL_O_ALLOW_PARTIAL,
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
        .opts = CTL_O_CONFIG | CTL_O_FILE | CTL_O_NAMESPACE |
            CTL_O_SKIP_NOT_EXISTS | CTL_O_ALLOW_PARTIAL,
        .exec = res_delete,
        .more_help = res_more_help,
    },
};

const size_t resource_ncmds = sizeof(resource_cmds) / sizeof(resource_cmds[0]);
