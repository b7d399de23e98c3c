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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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
		snprintf(sub, sizeof(sub), "%s%s%s", path,
		    *path != '\0' ? "." : "", k);
		diff(v, json_object_get(b, k), sub, depth - 1, buf, len);
	}
	json_object_foreach((json_t *)b, k, v)
	{
		if (json_object_get(a, k) != NULL)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", path,
		    *path != '\0' ? "." : "", k);
		diff_add(buf, len, sub);
	}
}

void
migrate_classify(struct migrate_item *it, const char *cur, size_t len,
    int64_t mod_revision, bool force)
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
		it->state = force ? MIGRATE_UPDATE : MIGRATE_CONFLICT;
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
migrate_compare(struct migrate_plan *p, struct etcd *e, bool force, char *err,
    size_t errlen)
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
			    kv != NULL ? kv->mod_revision : 0, force);
		}
		etcd_result_clean(&res);
	}
	return 0;
}

/* a random (version 4) UUID, as the Kubernetes API machinery makes them */
static char *
uuid_new(void)
{
	uint8_t u[16];
	size_t off = 0;
	ssize_t n;
	char *s;

	while (off < sizeof(u)) {
		if ((n = getrandom(u + off, sizeof(u) - off, 0)) == -1)
			fatal("getrandom");
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

static char *
now_rfc3339(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
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
		r.meta.uid = uuid_new();
	if ((r.meta.creation_timestamp =
	            current_meta(it, "creationTimestamp")) == NULL)
		r.meta.creation_timestamp = now_rfc3339();
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

int
migrate_write(struct migrate_plan *p, struct etcd *e, char *err, size_t errlen)
{
	size_t idx[MIGRATE_TXN_OPS], i = 0, n, k, bytes, len;
	char *vals[MIGRATE_TXN_OPS], *v;
	int rc = 0;

	while (rc == 0) {
		n = 0;
		bytes = 0;
		for (; i < p->nitems && n < MIGRATE_TXN_OPS; i++) {
			if (!to_write(&p->items[i]))
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

void
migrate_print(
    const struct migrate_plan *p, const struct migrate_opts *o, FILE *f)
{
	const struct migrate_item *it;
	const struct migrate_msg *m;
	struct migrate_counts c;
	size_t i, todo;

	for (i = 0; i < p->nitems; i++) {
		it = &p->items[i];
		fprintf(f, "%-9s %s  (%s, from %s)\n",
		    migrate_state_name(it->state, it->written), it->key,
		    it->what, it->source);
		if (it->diff != NULL)
			fprintf(f, "%-9s   differs in %s\n", "", it->diff);
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
	    p->nv1, c.create, c.update, c.unchanged, c.conflict,
	    plural(c.conflict, "conflict", "conflicts"), c.errors,
	    plural(c.errors, "error", "errors"), c.warnings,
	    plural(c.warnings, "warning", "warnings"), c.skipped);
	if (c.errors > 0)
		fprintf(f, "not written: the v1 data has errors (above)\n");
	else if (c.conflict > 0)
		fprintf(f,
		    "not written: %zu %s other values in etcd v3 (--force "
		    "overwrites them)\n",
		    c.conflict, plural(c.conflict, "key holds", "keys hold"));
	else if (todo == 0)
		fprintf(f, "nothing to write: etcd v3 holds all of it\n");
	else if (!o->apply)
		fprintf(f, "dry run: nothing written (--apply writes %zu %s)\n",
		    todo, plural(todo, "key", "keys"));
	else if (c.written < todo)
		fprintf(f, "written: %zu of %zu keys, then stopped\n",
		    c.written, todo);
	else
		fprintf(f, "written: %zu %s\n", c.written,
		    plural(c.written, "key", "keys"));
}

int
migrate_from_etcdv2(struct etcdv2 *v2, struct etcd *v3,
    const struct migrate_opts *o, struct migrate_counts *counts, char *err,
    size_t errlen)
{
	struct etcdv2_result lr;
	struct migrate_plan p;
	struct migrate_counts c;
	int rc = 0;

	if (counts != NULL)
		memset(counts, 0, sizeof(*counts));
	if (etcdv2_list(v2, MIGRATE_V1_ROOT, &lr) == -1) {
		snprintf(err, errlen, "reading etcd v2: %s", etcdv2_error(v2));
		return -1;
	}
	migrate_plan_init(&p);
	migrate_convert(&p, lr.nodes, lr.nnodes);
	etcdv2_result_clean(&lr);
	if (p.nv1 == 0) {
		snprintf(err, errlen,
		    "etcd v2 at %s holds no Calico data under %s",
		    etcdv2_endpoint(v2), MIGRATE_V1_ROOT);
		migrate_plan_clean(&p);
		return -1;
	}
	if (migrate_compare(&p, v3, o->force, err, errlen) == -1) {
		migrate_plan_clean(&p);
		return -1;
	}
	migrate_count(&p, &c);
	if (c.errors > 0 || c.conflict > 0)
		rc = 1;
	else if (o->apply && migrate_write(&p, v3, err, errlen) == -1)
		rc = -1;
	if (o->out != NULL) {
		fprintf(o->out, "from etcd v2 at %s (%s) to etcd v3 at %s%s\n",
		    etcdv2_endpoint(v2), MIGRATE_V1_ROOT, etcd_endpoint(v3),
		    o->apply ? "" : " (dry run)");
		migrate_print(&p, o, o->out);
	}
	if (counts != NULL)
		migrate_count(&p, counts);
	migrate_plan_clean(&p);
	return rc;
}
