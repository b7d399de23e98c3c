/*
 * Migration, the v3 side (store/migrate.h): the plan that migrate_v1.c
 * builds is read against etcd v3 (every key in txns of ranges), each key
 * classified as to create, unchanged or in conflict, printed, and written
 * in compare-and-swap txns guarded by the mod_revisions that were read, so
 * a concurrent writer makes the write fail rather than be overwritten.
 *
 * Equal means equal through the model: both values are decoded and encoded
 * again, the uid and creationTimestamp each writer makes up are left out,
 * and the IPAM flags whose absence means false ("deleted",
 * "strictAffinity") count as false, so a value Calico or podmesh wrote
 * since compares equal to the migrated one when it means the same.
 *
 * force overwrites what differs, IPAM aside (force_ipam); the
 * ClusterInformation is written first with datastoreReady false and last
 * with true (migrate.h, Locking); migrate_lock.c holds the v2.6 side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/etcdv2.h"
#include "store/migrate.h"
#include "store/model.h"

#define DIFF_MAX 256

void
migrate_plan_init(struct migrate_plan *p)
{
	memset(p, 0, sizeof(*p));
}

void
migrate_plan_clean(struct migrate_plan *p)
{
	size_t i;

	for (i = 0; i < p->nitems; i++) {
		free(p->items[i].key);
		free(p->items[i].value);
		free(p->items[i].what);
		free(p->items[i].source);
		free(p->items[i].current);
		free(p->items[i].diff);
	}
	free(p->items);
	for (i = 0; i < p->nmsgs; i++) {
		free(p->msgs[i].key);
		free(p->msgs[i].text);
	}
	free(p->msgs);
	memset(p, 0, sizeof(*p));
}

static bool
is_resource(const char *key)
{
	return strncmp(key, MODEL_RESOURCE_PREFIX,
	           strlen(MODEL_RESOURCE_PREFIX)) == 0;
}

static bool
is_ipam(const char *key)
{
	return strncmp(key, MIGRATE_IPAM_PREFIX, strlen(MIGRATE_IPAM_PREFIX)) ==
	    0;
}

static bool
is_cluster(const char *key)
{
	return strcmp(key, MIGRATE_CLUSTER_KEY) == 0;
}

/* two ClusterInformations equal but for spec.datastoreReady */
static bool
equal_but_ready(const json_t *a, const json_t *b)
{
	json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
	bool eq;

	json_object_del(json_object_get(x, "spec"), "datastoreReady");
	json_object_del(json_object_get(y, "spec"), "datastoreReady");
	eq = json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return eq;
}

static void
tri_false(enum model_tri *t)
{
	if (*t == MODEL_UNSET)
		*t = MODEL_FALSE;
}

/* a value as the model stores it, for comparing; NULL with err */
static json_t *
normal(const char *key, const char *value, size_t len, char *err, size_t errlen)
{
	char host[MODEL_NAME_MAX + 1], id[1024];
	struct model_ipamconfig ic;
	struct model_affinity af;
	struct model_handle h;
	struct model_block b;
	struct resource r;
	json_error_t je;
	json_t *j, *out = NULL;
	struct prefix p;

	if ((j = json_loadb(value, len, 0, &je)) == NULL) {
		snprintf(err, errlen, "not JSON: %s", je.text);
		return NULL;
	}
	if (is_resource(key)) {
		if (resource_decode(j, &r, err, errlen) == 0) {
			out = resource_encode(&r, MODEL_NO_RV);
			json_object_del(
			    json_object_get(out, "metadata"), "uid");
			json_object_del(json_object_get(out, "metadata"),
			    "creationTimestamp");
			resource_clean(&r);
		}
	} else if (model_block_key_parse(key, &p) == 0) {
		if (model_block_from_json(j, &b, err, errlen) == 0) {
			tri_false(&b.strict_affinity);
			tri_false(&b.deleted);
			out = model_block_to_json(&b);
			model_block_clean(&b);
		}
	} else if (model_affinity_key_parse(key, host, sizeof(host), &p) == 0) {
		if (model_affinity_from_json(j, &af, err, errlen) == 0) {
			tri_false(&af.deleted);
			out = model_affinity_to_json(&af);
			model_affinity_clean(&af);
		}
	} else if (model_handle_key_parse(key, id, sizeof(id)) == 0) {
		if (model_handle_from_json(j, &h, err, errlen) == 0) {
			tri_false(&h.deleted);
			out = model_handle_to_json(&h);
			model_handle_clean(&h);
		}
	} else if (strcmp(key, MODEL_IPAM_CONFIG_KEY) == 0) {
		if (model_ipamconfig_from_json(j, &ic, err, errlen) == 0) {
			tri_false(&ic.strict_affinity);
			tri_false(&ic.auto_allocate_blocks);
			out = model_ipamconfig_to_json(&ic);
			model_ipamconfig_clean(&ic);
		}
	} else
		out = json_incref(j);
	json_decref(j);
	return out;
}

static void
diff_add(char *buf, size_t len, const char *path)
{
	size_t n = strlen(buf);

	if (n + 5 >= len)
		return;
	if (n + strlen(path) + 6 >= len) {
		strcat(buf, n > 0 ? ", ..." : "...");
		return;
	}
	snprintf(buf + n, len - n, "%s%s", n > 0 ? ", " : "",
	    *path != '\0' ? path : "the value");
}

/* path.k into sub; false when it does not fit */
static bool
diff_path(char *sub, size_t len, const char *path, const char *k)
{
	int n = snprintf(sub, len, "%s%s%s", path, *path != '\0' ? "." : "", k);

	return n >= 0 && (size_t)n < len;
}

/* the members where a and b differ, depth levels down */
static void
diff(const json_t *a, const json_t *b, const char *path, int depth, char *buf,
    size_t len)
{
	char sub[512];
	const char *k;
	json_t *v;

	if (a != NULL && b != NULL && json_equal(a, b))
		return;
	if (depth == 0 || !json_is_object(a) || !json_is_object(b)) {
		diff_add(buf, len, path);
		return;
	}
	json_object_foreach((json_t *)a, k, v)
	{
		if (!diff_path(sub, sizeof(sub), path, k)) {
			diff_add(buf, len, path); /* too deep to name */
			return;
		}
		diff(v, json_object_get(b, k), sub, depth - 1, buf, len);
	}
	json_object_foreach((json_t *)b, k, v)
	{
		if (json_object_get(a, k) != NULL)
			continue;
		if (!diff_path(sub, sizeof(sub), path, k)) {
			diff_add(buf, len, path);
			return;
		}
		diff_add(buf, len, sub);
	}
}

/* what differs, when it is to be overwritten */
static enum migrate_state
differs(const struct migrate_item *it, const struct migrate_opts *o)
{
	if (is_ipam(it->key))
		return o != NULL && o->force_ipam ? MIGRATE_UPDATE
		    : o != NULL && o->force       ? MIGRATE_KEPT
		                                  : MIGRATE_CONFLICT;
	return o != NULL && o->force ? MIGRATE_UPDATE : MIGRATE_CONFLICT;
}

void
migrate_classify(struct migrate_item *it, const char *cur, size_t len,
    int64_t mod_revision, const struct migrate_opts *o)
{
	char err[MODEL_ERRLEN], d[DIFF_MAX] = "";
	json_t *want, *have;

	free(it->current);
	free(it->diff);
	it->current = NULL;
	it->diff = NULL;
	it->mod_revision = mod_revision;
	if (cur == NULL) {
		it->state = MIGRATE_CREATE;
		return;
	}
	it->current = xstrndup(cur, len);
	want = normal(it->key, it->value, strlen(it->value), err, sizeof(err));
	if (want == NULL)
		fatalx(
		    "%s: %s: the migrated value: %s", __func__, it->key, err);
	have = normal(it->key, cur, len, err, sizeof(err));
	if (have != NULL && json_equal(want, have))
		it->state = MIGRATE_UNCHANGED;
	else {
		/* datastoreReady is the migration's own (migrate.h, Locking) */
		if (have != NULL && is_cluster(it->key) &&
		    equal_but_ready(want, have))
			it->state = MIGRATE_UPDATE;
		else
			it->state = differs(it, o);
		if (have == NULL)
			xasprintf(
			    &it->diff, "the stored value is invalid (%s)", err);
		else {
			diff(have, want, "", 3, d, sizeof(d));
			xasprintf(&it->diff, "%s", d);
		}
	}
	json_decref(want);
	json_decref(have);
}

int
migrate_compare(struct migrate_plan *p, struct etcd *e,
    const struct migrate_opts *o, char *err, size_t errlen)
{
	struct etcd_op ops[MIGRATE_TXN_OPS];
	const struct etcd_kv *kv;
	struct etcd_result res;
	struct etcd_txn t;
	size_t i, k, n;

	for (i = 0; i < p->nitems; i += n) {
		n = p->nitems - i < MIGRATE_TXN_OPS ? p->nitems - i
		                                    : MIGRATE_TXN_OPS;
		memset(ops, 0, sizeof(ops));
		for (k = 0; k < n; k++) {
			ops[k].type = ETCD_OP_RANGE;
			ops[k].key = p->items[i + k].key;
		}
		memset(&t, 0, sizeof(t));
		t.success = ops;
		t.nsuccess = n;
		if (etcd_txn(e, &t, &res) == -1) {
			snprintf(
			    err, errlen, "reading etcd v3: %s", etcd_error(e));
			return -1;
		}
		if (!res.succeeded || res.nresponses != n) {
			snprintf(err, errlen,
			    "reading etcd v3 at %s: %zu answers to %zu reads",
			    etcd_endpoint(e), res.nresponses, n);
			etcd_result_clean(&res);
			return -1;
		}
		for (k = 0; k < n; k++) {
			kv = res.responses[k].nkvs > 0
			    ? &res.responses[k].kvs[0]
			    : NULL;
			migrate_classify(&p->items[i + k],
			    kv != NULL ? kv->value : NULL,
			    kv != NULL ? kv->value_len : 0,
			    kv != NULL ? kv->mod_revision : 0, o);
		}
		etcd_result_clean(&res);
	}
	return 0;
}

/* a metadata member of the stored value, or NULL */
static char *
current_meta(const struct migrate_item *it, const char *name)
{
	json_t *j, *v;
	char *s = NULL;

	if (it->current == NULL ||
	    (j = json_loads(it->current, 0, NULL)) == NULL)
		return NULL;
	v = json_object_get(json_object_get(j, "metadata"), name);
	if (json_is_string(v) && *json_string_value(v) != '\0')
		s = xstrdup(json_string_value(v));
	json_decref(j);
	return s;
}

/*
 * What goes into etcd: a resource gains a uid and creationTimestamp, new
 * ones when it is created (as Calico's client does), the stored ones when
 * it is overwritten.
 */
static char *
stored_value(const struct migrate_item *it)
{
	char err[MODEL_ERRLEN], *s;
	struct resource r;
	json_t *j;

	if (!is_resource(it->key))
		return xstrdup(it->value);
	if ((j = json_loads(it->value, 0, NULL)) == NULL ||
	    resource_decode(j, &r, err, sizeof(err)) == -1)
		fatalx("%s: %s: the migrated value does not decode", __func__,
		    it->key);
	json_decref(j);
	free(r.meta.uid);
	free(r.meta.creation_timestamp);
	if ((r.meta.uid = current_meta(it, "uid")) == NULL)
		r.meta.uid = model_uid_new();
	if ((r.meta.creation_timestamp =
	            current_meta(it, "creationTimestamp")) == NULL)
		r.meta.creation_timestamp = model_timestamp_now();
	j = resource_encode(&r, MODEL_NO_RV);
	if ((s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(j);
	resource_clean(&r);
	return s;
}

static bool
to_write(const struct migrate_item *it)
{
	return !it->written &&
	    (it->state == MIGRATE_CREATE || it->state == MIGRATE_UPDATE);
}

/* one txn: every key still at the revision it was read at, then the puts */
static int
write_batch(struct migrate_plan *p, struct etcd *e, const size_t *idx,
    char **vals, size_t n, char *err, size_t errlen)
{
	struct etcd_cmp cmp[MIGRATE_TXN_OPS];
	struct etcd_op ops[MIGRATE_TXN_OPS];
	struct etcd_result res;
	struct etcd_txn t;
	size_t k;

	memset(cmp, 0, sizeof(cmp));
	memset(ops, 0, sizeof(ops));
	for (k = 0; k < n; k++) {
		cmp[k].target = ETCD_CMP_MOD;
		cmp[k].result = ETCD_CMP_EQUAL;
		cmp[k].key = p->items[idx[k]].key;
		cmp[k].number = p->items[idx[k]].mod_revision;
		ops[k].type = ETCD_OP_PUT;
		ops[k].key = p->items[idx[k]].key;
		ops[k].value = vals[k];
	}
	memset(&t, 0, sizeof(t));
	t.cmp = cmp;
	t.ncmp = n;
	t.success = ops;
	t.nsuccess = n;
	if (etcd_txn(e, &t, &res) == -1) {
		snprintf(err, errlen, "writing etcd v3: %s", etcd_error(e));
		return -1;
	}
	if (!res.succeeded) {
		snprintf(err, errlen,
		    "etcd v3 at %s: another writer changed one of %zu keys "
		    "from %s on while migrating; none of them was written "
		    "(run again)",
		    etcd_endpoint(e), n, p->items[idx[0]].key);
		etcd_result_clean(&res);
		return -1;
	}
	etcd_result_clean(&res);
	for (k = 0; k < n; k++)
		p->items[idx[k]].written = true;
	return 0;
}

static struct migrate_item *
cluster_item(struct migrate_plan *p)
{
	size_t i;

	for (i = 0; i < p->nitems; i++)
		if (is_cluster(p->items[i].key))
			return &p->items[i];
	return NULL;
}

/* the ClusterInformation as stored, with datastoreReady as given */
static char *
cluster_value(const struct migrate_item *it, bool ready)
{
	char *s = stored_value(it);
	json_t *j, *spec;

	if ((j = json_loads(s, 0, NULL)) == NULL)
		fatalx("%s: %s does not parse", __func__, it->key);
	free(s);
	if ((spec = json_object_get(j, "spec")) == NULL) {
		spec = json_object();
		json_object_set_new(j, "spec", spec);
	}
	json_object_set_new(spec, "datastoreReady", json_boolean(ready));
	if ((s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(j);
	return s;
}

/*
 * The ClusterInformation with datastoreReady as given, guarded by the
 * mod_revision it was read (or last put) at; what was put becomes current,
 * so a second put keeps the uid and creationTimestamp of the first.
 */
static int
put_cluster(struct migrate_item *it, struct etcd *e, bool ready, int64_t *rev,
    char *err, size_t errlen)
{
	char *v = cluster_value(it, ready);
	struct etcd_result res;
	int rc;

	rc = etcd_cas_put(e, it->key, v, strlen(v), it->mod_revision, 0, &res);
	if (rc == -1)
		snprintf(err, errlen, "writing etcd v3: %s", etcd_error(e));
	else if (rc == 1)
		snprintf(err, errlen,
		    "etcd v3 at %s: another writer changed %s while "
		    "migrating; it was not written (run again)",
		    etcd_endpoint(e), it->key);
	else {
		*rev = it->mod_revision = res.revision;
		free(it->current);
		it->current = v;
		v = NULL;
	}
	if (rc != -1)
		etcd_result_clean(&res);
	free(v);
	return rc == 0 ? 0 : -1;
}

int
migrate_write(struct migrate_plan *p, struct etcd *e, char *err, size_t errlen)
{
	size_t idx[MIGRATE_TXN_OPS], i = 0, n, k, bytes, len;
	char *vals[MIGRATE_TXN_OPS], *v;
	struct migrate_item *ci = cluster_item(p);
	int rc = 0;

	/* v3 clients see datastoreReady false until migrate_ready() */
	for (k = 0; ci != NULL && k < p->nitems; k++)
		if (&p->items[k] != ci && to_write(&p->items[k])) {
			if (put_cluster(ci, e, false, &p->lock.hold_rev, err,
			        errlen) == -1)
				return -1;
			break;
		}
	while (rc == 0) {
		n = 0;
		bytes = 0;
		for (; i < p->nitems && n < MIGRATE_TXN_OPS; i++) {
			if (!to_write(&p->items[i]) || &p->items[i] == ci)
				continue;
			v = stored_value(&p->items[i]);
			len = strlen(v) + strlen(p->items[i].key);
			/* etcd takes requests up to 1.5 MiB */
			if (n > 0 && bytes + len > MIGRATE_TXN_BYTES) {
				free(v);
				break;
			}
			idx[n] = i;
			vals[n++] = v;
			bytes += len;
		}
		if (n == 0)
			break;
		rc = write_batch(p, e, idx, vals, n, err, errlen);
		for (k = 0; k < n; k++)
			free(vals[k]);
	}
	return rc;
}

int
migrate_ready(struct migrate_plan *p, struct etcd *e, char *err, size_t errlen)
{
	struct migrate_item *ci = cluster_item(p);

	if (ci == NULL || (!to_write(ci) && p->lock.hold_rev == 0))
		return 0;
	if (put_cluster(ci, e, true, &p->lock.ready_rev, err, errlen) == -1)
		return -1;
	if (to_write(ci))
		ci->written = true;
	return 0;
}

void
migrate_count(const struct migrate_plan *p, struct migrate_counts *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < p->nitems; i++) {
		switch (p->items[i].state) {
		case MIGRATE_CREATE:
			c->create++;
			break;
		case MIGRATE_UPDATE:
			c->update++;
			break;
		case MIGRATE_UNCHANGED:
			c->unchanged++;
			break;
		case MIGRATE_CONFLICT:
			c->conflict++;
			break;
		case MIGRATE_KEPT:
			c->kept++;
			break;
		case MIGRATE_PENDING:
			break;
		}
		if (p->items[i].written)
			c->written++;
	}
	for (i = 0; i < p->nmsgs; i++) {
		switch (p->msgs[i].level) {
		case MIGRATE_ERROR:
			c->errors++;
			break;
		case MIGRATE_WARNING:
			c->warnings++;
			break;
		case MIGRATE_SKIPPED:
			c->skipped += p->msgs[i].count;
			break;
		}
	}
}

const char *
migrate_state_name(enum migrate_state s, bool written)
{
	switch (s) {
	case MIGRATE_CREATE:
		return written ? "created" : "create";
	case MIGRATE_UPDATE:
		return written ? "updated" : "update";
	case MIGRATE_UNCHANGED:
		return "unchanged";
	case MIGRATE_CONFLICT:
		return "conflict";
	case MIGRATE_KEPT:
		return "kept";
	case MIGRATE_PENDING:
		break;
	}
	return "pending";
}

const struct migrate_item *
migrate_find(const struct migrate_plan *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->nitems; i++)
		if (strcmp(p->items[i].key, key) == 0)
			return &p->items[i];
	return NULL;
}

static const char *
plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void
print_lock_start(const struct migrate_lock *lk, FILE *f)
{
	switch (lk->state) {
	case MIGRATE_LOCK_TAKEN:
		fprintf(f,
		    "%-9s %s: true -> false at etcd v2 index %lld (Calico "
		    "v2.6's CNI plugin and Felix stop writing)\n",
		    "locked", MIGRATE_V1_READY, (long long)lk->ready_index);
		break;
	case MIGRATE_LOCK_HELD:
		fprintf(f, "%-9s %s: false already (since index %lld)\n",
		    "locked", MIGRATE_V1_READY, (long long)lk->ready_index);
		break;
	case MIGRATE_LOCK_CREATED:
		fprintf(f,
		    "%-9s %s: absent; created false at etcd v2 index %lld\n",
		    "locked", MIGRATE_V1_READY, (long long)lk->ready_index);
		break;
	case MIGRATE_LOCK_NONE:
		break;
	}
}

static void
print_lock_end(
    const struct migrate_lock *lk, const struct migrate_opts *o, FILE *f)
{
	if (lk->check_index > 0)
		fprintf(f,
		    "%-9s etcd v2 unchanged under %s since index %lld (at "
		    "index %lld)\n",
		    "checked", MIGRATE_V1_ROOT, (long long)lk->list_index,
		    (long long)lk->check_index);
	if (lk->ready_rev > 0)
		fprintf(f,
		    "%-9s ClusterInformation default: datastoreReady true at "
		    "etcd v3 revision %lld\n",
		    "ready", (long long)lk->ready_rev);
	else if (lk->hold_rev > 0)
		fprintf(f,
		    "%-9s ClusterInformation default: datastoreReady stays "
		    "false (run again)\n",
		    "not ready");
	if (lk->released)
		fprintf(f, "%-9s %s: %s (nothing was written)\n", "unlocked",
		    MIGRATE_V1_READY,
		    lk->state == MIGRATE_LOCK_CREATED ? "deleted again"
		                                      : "back to true");
	if (!o->apply)
		fprintf(f,
		    "dry run: --apply first sets %s to false (Calico v2.6 "
		    "stops writing), then holds datastoreReady false in etcd "
		    "v3 until the last key is written\n",
		    MIGRATE_V1_READY);
}

static size_t
ipam_conflicts(const struct migrate_plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->nitems; i++)
		n += p->items[i].state == MIGRATE_CONFLICT &&
		    is_ipam(p->items[i].key);
	return n;
}

void
migrate_print(
    const struct migrate_plan *p, const struct migrate_opts *o, FILE *f)
{
	const struct migrate_lock *lk = &p->lock;
	const struct migrate_item *it;
	const struct migrate_msg *m;
	struct migrate_counts c;
	size_t i, todo;

	print_lock_start(lk, f);
	if (lk->list_index > 0)
		fprintf(f, "%-9s %s at etcd v2 index %lld (%zu %s)\n", "read",
		    MIGRATE_V1_ROOT, (long long)lk->list_index, p->nv1,
		    plural(p->nv1, "key", "keys"));
	for (i = 0; i < p->nitems; i++) {
		it = &p->items[i];
		fprintf(f, "%-9s %s  (%s, from %s)\n",
		    migrate_state_name(it->state, it->written), it->key,
		    it->what, it->source);
		if (it->diff != NULL)
			fprintf(f, "%-9s   differs in %s\n", "", it->diff);
		if (it->state == MIGRATE_KEPT)
			fprintf(f,
			    "%-9s   left alone: IPAM (--force-ipam "
			    "overwrites it)\n",
			    "");
	}
	for (i = 0; i < p->nmsgs; i++) {
		m = &p->msgs[i];
		if (m->level == MIGRATE_SKIPPED)
			fprintf(f, "%-9s %s (%zu %s): %s\n", "skipped", m->key,
			    m->count, plural(m->count, "key", "keys"), m->text);
		else
			fprintf(f, "%-9s %s: %s\n",
			    m->level == MIGRATE_ERROR ? "error" : "warning",
			    m->key, m->text);
	}
	migrate_count(p, &c);
	todo = c.create + c.update;
	fprintf(f,
	    "summary: %zu v1 keys; %zu to create, %zu to update, %zu "
	    "unchanged, %zu %s, %zu %s, %zu %s, %zu skipped\n",
	    p->nv1, c.create, c.update, c.unchanged, c.conflict + c.kept,
	    plural(c.conflict + c.kept, "conflict", "conflicts"), c.errors,
	    plural(c.errors, "error", "errors"), c.warnings,
	    plural(c.warnings, "warning", "warnings"), c.skipped);
	if (c.kept > 0)
		fprintf(f,
		    "left alone: %zu IPAM %s other values in etcd v3: --force "
		    "does not overwrite IPAM data, which v3 may have allocated "
		    "from since (--force-ipam does, freeing those addresses)\n",
		    c.kept, plural(c.kept, "key holds", "keys hold"));
	if (lk->hold_rev > 0)
		fprintf(f,
		    "%-9s ClusterInformation default: datastoreReady false at "
		    "etcd v3 revision %lld while writing\n",
		    "held", (long long)lk->hold_rev);
	if (c.errors > 0)
		fprintf(f, "not written: the v1 data has errors (above)\n");
	else if (c.conflict > 0)
		fprintf(f,
		    "not written: %zu %s other values in etcd v3 (--force "
		    "overwrites them%s)\n",
		    c.conflict, plural(c.conflict, "key holds", "keys hold"),
		    ipam_conflicts(p) > 0 ? " but leaves the IPAM ones alone; "
		                            "--force-ipam overwrites those"
		                          : "");
	else if (todo == 0)
		fprintf(f, "%s\n",
		    c.kept > 0 ? "nothing else to write: etcd v3 holds the rest"
		               : "nothing to write: etcd v3 holds all of it");
	else if (!o->apply)
		fprintf(f, "dry run: nothing written (--apply writes %zu %s)\n",
		    todo, plural(todo, "key", "keys"));
	else if (c.written < todo)
		fprintf(f, "written: %zu of %zu keys, then stopped\n",
		    c.written, todo);
	else
		fprintf(f, "written: %zu %s\n", c.written,
		    plural(c.written, "key", "keys"));
	print_lock_end(lk, o, f);
}

/* Locking, 4 to 6: the keys, v2 unchanged, then ready */
static int
apply(struct migrate_plan *p, struct etcdv2 *v2, struct etcd *v3, char *err,
    size_t errlen)
{
	if (migrate_write(p, v3, err, errlen) == -1 ||
	    migrate_check_v1(p, v2, err, errlen) == -1 ||
	    migrate_ready(p, v3, err, errlen) == -1)
		return -1;
	return 0;
}

int
migrate_from_etcdv2(struct etcdv2 *v2, struct etcd *v3,
    const struct migrate_opts *o, struct migrate_counts *counts, char *err,
    size_t errlen)
{
	struct etcdv2_result lr;
	struct migrate_plan p;
	struct migrate_counts c;
	bool compared = false;
	char uerr[512] = "";
	size_t n;
	int rc = 0;

	if (counts != NULL)
		memset(counts, 0, sizeof(*counts));
	migrate_plan_init(&p);
	/* Locking, 1: before the listing, so it holds all v2.6 wrote */
	if (o->apply && migrate_lock_v1(&p, v2, err, errlen) == -1) {
		migrate_plan_clean(&p);
		return -1;
	}
	if (etcdv2_list(v2, MIGRATE_V1_ROOT, &lr) == -1) {
		snprintf(err, errlen, "reading etcd v2: %s", etcdv2_error(v2));
		rc = -1;
		goto out;
	}
	p.lock.list_index = lr.index;
	migrate_convert(&p, lr.nodes, lr.nnodes);
	etcdv2_result_clean(&lr);
	if (p.nv1 == 0) {
		snprintf(err, errlen,
		    "etcd v2 at %s holds no Calico data under %s",
		    etcdv2_endpoint(v2), MIGRATE_V1_ROOT);
		rc = -1;
		goto out;
	}
	if (migrate_compare(&p, v3, o, err, errlen) == -1) {
		rc = -1;
		goto out;
	}
	compared = true;
	migrate_count(&p, &c);
	if (c.errors > 0 || c.conflict > 0)
		rc = 1;
	else if (o->apply && apply(&p, v2, v3, err, errlen) == -1)
		rc = -1;
out:
	/* nothing written: v2.6 may go on as before this run */
	migrate_count(&p, &c);
	if (rc != 0 && c.written == 0 && p.lock.hold_rev == 0 &&
	    migrate_unlock_v1(&p, v2, uerr, sizeof(uerr)) == -1 && rc == -1) {
		n = strlen(err);
		snprintf(err + n, errlen - n, "; then %s", uerr);
	}
	if (o->out != NULL && compared) {
		fprintf(o->out, "from etcd v2 at %s (%s) to etcd v3 at %s%s\n",
		    etcdv2_endpoint(v2), MIGRATE_V1_ROOT, etcd_endpoint(v3),
		    o->apply ? "" : " (dry run)");
		migrate_print(&p, o, o->out);
		if (rc == 1 && *uerr != '\0')
			fprintf(o->out, "warning: %s\n", uerr);
	}
	if (counts != NULL)
		migrate_count(&p, counts);
	migrate_plan_clean(&p);
	return rc;
}
