/*
 * Calico's IPAM tree under /calico/ipam/v2/ (calico.md §2): allocation
 * blocks, host affinities, handles and the IPAM config, their JSON both
 * ways and their keys.  A block is one array slot per address (ordinal):
 * allocations[i] indexes the deduplicated attributes or is null when free,
 * and unallocated is the queue of free ordinals, taken from the front and
 * given back at the back, so a freed address is reused last.  The helpers
 * here keep those invariants; the compare-and-swap around them is the
 * IPAM engine's.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/model.h"
#include "store/model_int.h"

#define IPAM_BLOCK_PATH MODEL_IPAM_PREFIX "assignment/"
#define IPAM_HOST_PATH MODEL_IPAM_PREFIX "host/"
#define IPAM_HANDLE_PATH MODEL_IPAM_PREFIX "handle/"

static bool
block_len_valid(int family, int len)
{
	if (family == AF_INET)
		return len >= 20 && len <= 32;
	if (family == AF_INET6)
		return len >= 116 && len <= 128;
	return false;
}

static uint32_t
block_nords(const struct prefix *p)
{
	return 1u << (addr_maxlen(p->a.family) - p->len);
}

/* the low 32 bits of an address: enough, a block has at most 12 host bits */
static uint32_t
addr_low32(const struct addr *a)
{
	uint32_t x;

	memcpy(&x, a->b + addr_bytes(a->family) - 4, 4);
	return ntohl(x);
}

/* ---- blocks: helpers ---- */

int
model_block_cidr_for(const struct addr *a, int blocklen, struct prefix *out)
{
	if (!block_len_valid(a->family, blocklen))
		return -1;
	memset(out, 0, sizeof(*out));
	out->a = *a;
	out->a.scope_id = 0;
	out->len = blocklen;
	prefix_mask(out);
	return 0;
}

void
model_block_init(
    struct model_block *b, const struct prefix *cidr, const char *host)
{
	uint32_t i;

	if (!block_len_valid(cidr->a.family, cidr->len))
		fatalx("%s: /%u is not a block size", __func__, cidr->len);
	memset(b, 0, sizeof(*b));
	b->cidr = *cidr;
	prefix_mask(&b->cidr);
	if (host != NULL)
		xasprintf(&b->affinity, "%s%s", MODEL_AFFINITY_HOST, host);
	/* both eras' flags: each Calico ignores the other's */
	b->strict_affinity = MODEL_FALSE;
	b->deleted = MODEL_FALSE;
	b->nords = block_nords(&b->cidr);
	b->allocations = xcalloc(b->nords, sizeof(*b->allocations));
	b->unallocated = xcalloc(b->nords, sizeof(*b->unallocated));
	for (i = 0; i < b->nords; i++) {
		b->allocations[i] = -1;
		b->unallocated[i] = i;
	}
	b->nunallocated = b->nords;
}

const char *
model_block_host(const struct model_block *b)
{
	size_t n = strlen(MODEL_AFFINITY_HOST);

	if (b->affinity == NULL ||
	    strncmp(b->affinity, MODEL_AFFINITY_HOST, n) != 0)
		return NULL;
	return b->affinity + n;
}

int
model_block_ordinal(const struct model_block *b, const struct addr *a)
{
	if (b->nords == 0 || !prefix_contains(&b->cidr, a))
		return -1;
	return addr_low32(a) - addr_low32(&b->cidr.a);
}

void
model_block_addr(const struct model_block *b, uint32_t ord, struct addr *a)
{
	uint32_t x;

	*a = b->cidr.a;
	x = htonl(addr_low32(&b->cidr.a) + ord);
	memcpy(a->b + addr_bytes(a->family) - 4, &x, 4);
}

size_t
model_block_nfree(const struct model_block *b)
{
	return b->nunallocated;
}

bool
model_block_empty(const struct model_block *b)
{
	uint32_t i;

	for (i = 0; i < b->nords; i++)
		if (b->allocations[i] != -1)
			return false;
	return true;
}

const struct model_ipam_attr *
model_block_attr(const struct model_block *b, uint32_t ord)
{
	if (ord >= b->nords || b->allocations[ord] < 0)
		return NULL;
	return &b->attrs[b->allocations[ord]];
}

static bool
labels_equal(const struct model_labels *a, const struct model_labels *b)
{
	const char *v;
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if ((v = model_labels_get(b, a->v[i].key)) == NULL ||
		    strcmp(v, a->v[i].value) != 0)
			return false;
	return true;
}

/* Calico's findOrAddAttribute: equal handle and secondary share an entry */
static int32_t
block_attr_index(
    struct model_block *b, const char *handle, const struct model_labels *sec)
{
	struct model_ipam_attr *a;
	size_t i, j;

	for (i = 0; i < b->nattrs; i++) {
		a = &b->attrs[i];
		if ((a->handle_id == NULL) != (handle == NULL) ||
		    (handle != NULL && strcmp(a->handle_id, handle) != 0) ||
		    a->has_secondary != (sec != NULL) ||
		    (sec != NULL && !labels_equal(&a->secondary, sec)) ||
		    a->extra != NULL)
			continue;
		return i;
	}
	b->attrs = xreallocarray(b->attrs, b->nattrs + 1, sizeof(*b->attrs));
	a = &b->attrs[b->nattrs];
	memset(a, 0, sizeof(*a));
	a->handle_id = handle != NULL ? xstrdup(handle) : NULL;
	if (sec != NULL) {
		a->has_secondary = true;
		for (j = 0; j < sec->n; j++)
			model_labels_set(
			    &a->secondary, sec->v[j].key, sec->v[j].value);
	}
	return b->nattrs++;
}

static void
block_take(struct model_block *b, size_t qi, const char *handle,
    const struct model_labels *sec)
{
	uint32_t ord = b->unallocated[qi];

	memmove(&b->unallocated[qi], &b->unallocated[qi + 1],
	    (b->nunallocated - qi - 1) * sizeof(*b->unallocated));
	b->nunallocated--;
	b->allocations[ord] = block_attr_index(b, handle, sec);
}

int
model_block_assign(struct model_block *b, const char *handle,
    const struct model_labels *sec, struct addr *out)
{
	uint32_t ord;

	if (b->nunallocated == 0)
		return -1;
	ord = b->unallocated[0];
	block_take(b, 0, handle, sec);
	model_block_addr(b, ord, out);
	return 0;
}

int
model_block_assign_addr(struct model_block *b, const struct addr *a,
    const char *handle, const struct model_labels *sec)
{
	int ord = model_block_ordinal(b, a);
	size_t i;

	if (ord < 0 || b->allocations[ord] != -1)
		return -1;
	for (i = 0; i < b->nunallocated; i++)
		if (b->unallocated[i] == (uint32_t)ord) {
			block_take(b, i, handle, sec);
			return 0;
		}
	return -1; /* free, but not offered: leave it alone */
}

static void
ipam_attr_clean(struct model_ipam_attr *a)
{
	free(a->handle_id);
	model_labels_clean(&a->secondary);
	json_decref(a->extra);
	memset(a, 0, sizeof(*a));
}

int
model_block_release(struct model_block *b, const struct addr *a)
{
	int ord = model_block_ordinal(b, a);
	int32_t idx;
	uint32_t i;

	if (ord < 0 || b->allocations[ord] < 0)
		return -1;
	idx = b->allocations[ord];
	b->allocations[ord] = -1;
	b->unallocated[b->nunallocated++] = ord;
	for (i = 0; i < b->nords; i++)
		if (b->allocations[i] == idx)
			return 0;
	/* the last reference is gone: drop the attribute, renumber */
	ipam_attr_clean(&b->attrs[idx]);
	memmove(&b->attrs[idx], &b->attrs[idx + 1],
	    (b->nattrs - idx - 1) * sizeof(*b->attrs));
	b->nattrs--;
	for (i = 0; i < b->nords; i++)
		if (b->allocations[i] > idx)
			b->allocations[i]--;
	return 0;
}

/* ---- blocks: JSON ---- */

static int
ipam_attr_dec(struct mctx *c, const json_t *v, struct model_ipam_attr *a)
{
	const char *key, *s;
	size_t old;
	json_t *x;
	char r[96];
	int rc;

	if (!json_is_object(v))
		return mctx_err(
		    c, "expected a map, got %s", mctx_repr(v, r, sizeof(r)));
	json_object_foreach((json_t *)v, key, x)
	{
		old = mctx_push(c, key);
		rc = 0;
		if (strcmp(key, "handle_id") == 0) {
			if (!json_is_null(x) &&
			    (rc = mval_string(c, x, &s)) == 0)
				a->handle_id = xstrdup(s);
		} else if (strcmp(key, "secondary") == 0) {
			if (!json_is_null(x)) {
				a->has_secondary = true;
				rc = mval_labels(c, x, &a->secondary);
			}
		} else
			mval_extra(&a->extra, key, x);
		if (rc == -1)
			return -1;
		mctx_pop(c, old);
	}
	return 0;
}

static json_t *
ipam_attr_enc(const struct model_ipam_attr *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "handle_id",
	    a->handle_id != NULL ? json_string(a->handle_id) : json_null());
	json_object_set_new(o, "secondary",
	    a->has_secondary ? mval_labels_json(&a->secondary) : json_null());
	mval_merge_extra(o, a->extra);
	return o;
}

static int
block_cidr_dec(struct mctx *c, const json_t *j, struct model_block *b)
{
	const json_t *v = json_object_get(j, "cidr");
	char buf[PREFIX_STRLEN];
	size_t old;
	int rc = 0;

	if (v == NULL || json_is_null(v))
		return mctx_err_at(c, "cidr", "required");
	old = mctx_push(c, "cidr");
	if (mval_prefix(c, v, &b->cidr) == -1)
		rc = -1;
	else if (prefix_has_hostbits(&b->cidr))
		rc = mctx_err(c, "\"%s\" has host bits set",
		    prefix_ntop(&b->cidr, buf, sizeof(buf)));
	else if (!block_len_valid(b->cidr.a.family, b->cidr.len))
		rc = mctx_err(c, "/%u is not a valid block size", b->cidr.len);
	mctx_pop(c, old);
	if (rc == 0)
		b->nords = block_nords(&b->cidr);
	return rc;
}

static int
block_list(struct mctx *c, const json_t *j, const char *key, bool required,
    const json_t **out)
{
	const json_t *v = json_object_get(j, key);
	char r[96];

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? mctx_err_at(c, key, "required") : 0;
	if (!json_is_array(v))
		return mctx_err_at(c, key, "expected a list, got %s",
		    mctx_repr(v, r, sizeof(r)));
	*out = v;
	return 0;
}

static int
block_allocs_dec(struct mctx *c, const json_t *v, struct model_block *b)
{
	json_int_t x;
	size_t i, old, item;
	const json_t *e;
	char r[96];

	if (json_array_size(v) != b->nords)
		return mctx_err_at(c, "allocations",
		    "%zu entries for a block of %u addresses",
		    json_array_size(v), b->nords);
	b->allocations = xcalloc(b->nords, sizeof(*b->allocations));
	old = mctx_push(c, "allocations");
	for (i = 0; i < b->nords; i++) {
		e = json_array_get(v, i);
		b->allocations[i] = -1;
		if (json_is_null(e))
			continue;
		item = mctx_push_index(c, i);
		if (!json_is_integer(e))
			return mctx_err(c,
			    "expected an attribute index, got %s",
			    mctx_repr(e, r, sizeof(r)));
		x = json_integer_value(e);
		if (x < 0 || (size_t)x >= b->nattrs)
			return mctx_err(c,
			    "attribute index %" JSON_INTEGER_FORMAT
			    " out of range (%zu attributes)",
			    x, b->nattrs);
		b->allocations[i] = x;
		mctx_pop(c, item);
	}
	mctx_pop(c, old);
	return 0;
}

static int
block_unalloc_dec(struct mctx *c, const json_t *v, struct model_block *b)
{
	json_int_t x;
	size_t i, n = v != NULL ? json_array_size(v) : 0, old, item;
	const json_t *e;
	bool *seen;
	char r[96];
	int rc = 0;

	b->unallocated = xcalloc(b->nords, sizeof(*b->unallocated));
	seen = xcalloc(b->nords, sizeof(*seen));
	old = mctx_push(c, "unallocated");
	for (i = 0; i < n && rc == 0; i++) {
		e = json_array_get(v, i);
		item = mctx_push_index(c, i);
		x = json_is_integer(e) ? json_integer_value(e) : -1;
		if (!json_is_integer(e))
			rc = mctx_err(c, "expected an ordinal, got %s",
			    mctx_repr(e, r, sizeof(r)));
		else if (x < 0 || x >= b->nords)
			rc = mctx_err(c,
			    "ordinal %" JSON_INTEGER_FORMAT
			    " outside the block (0-%u)",
			    x, b->nords - 1);
		else if (seen[x])
			rc = mctx_err(c,
			    "ordinal %" JSON_INTEGER_FORMAT " listed twice", x);
		else if (b->allocations[x] != -1)
			rc = mctx_err(c,
			    "ordinal %" JSON_INTEGER_FORMAT " is allocated", x);
		else {
			seen[x] = true;
			b->unallocated[b->nunallocated++] = x;
		}
		if (rc == 0)
			mctx_pop(c, item);
	}
	mctx_pop(c, old);
	free(seen);
	return rc;
}

static int
block_dec(struct mctx *c, const json_t *j, struct model_block *b)
{
	const json_t *attrs, *allocs, *unalloc;
	const char *key, *s;
	size_t i, old, item;
	json_t *v;
	char r[96];
	int rc;

	if (!json_is_object(j))
		return mctx_err(c, "expected a block (a map), got %s",
		    mctx_repr(j, r, sizeof(r)));
	if (block_cidr_dec(c, j, b) == -1)
		return -1;
	json_object_foreach((json_t *)j, key, v)
	{
		old = mctx_push(c, key);
		rc = 0;
		if (strcmp(key, "affinity") == 0) {
			if (!json_is_null(v) &&
			    (rc = mval_string(c, v, &s)) == 0)
				b->affinity = xstrdup(s);
		} else if (strcmp(key, "strictAffinity") == 0)
			rc = mval_tri(c, v, &b->strict_affinity);
		else if (strcmp(key, "deleted") == 0)
			rc = mval_tri(c, v, &b->deleted);
		else if (strcmp(key, "cidr") != 0 &&
		    strcmp(key, "allocations") != 0 &&
		    strcmp(key, "unallocated") != 0 &&
		    strcmp(key, "attributes") != 0)
			mval_extra(&b->extra, key, v);
		if (rc == -1)
			return -1;
		mctx_pop(c, old);
	}
	if (block_list(c, j, "attributes", false, &attrs) == -1 ||
	    block_list(c, j, "allocations", true, &allocs) == -1 ||
	    block_list(c, j, "unallocated", false, &unalloc) == -1)
		return -1;
	if (attrs != NULL && json_array_size(attrs) > 0) {
		b->attrs = xcalloc(json_array_size(attrs), sizeof(*b->attrs));
		old = mctx_push(c, "attributes");
		for (i = 0; i < json_array_size(attrs); i++) {
			item = mctx_push_index(c, i);
			b->nattrs++;
			if (ipam_attr_dec(c, json_array_get(attrs, i),
			        &b->attrs[i]) == -1)
				return -1;
			mctx_pop(c, item);
		}
		mctx_pop(c, old);
	}
	if (block_allocs_dec(c, allocs, b) == -1)
		return -1;
	return block_unalloc_dec(c, unalloc, b);
}

int
model_block_from_json(
    const json_t *j, struct model_block *b, char *err, size_t errlen)
{
	struct mctx c;

	memset(b, 0, sizeof(*b));
	mctx_init(&c, 0, "", err, errlen);
	if (block_dec(&c, j, b) == -1) {
		model_block_clean(b);
		return -1;
	}
	return 0;
}

json_t *
model_block_to_json(const struct model_block *b)
{
	json_t *o = json_object(), *a;
	size_t i;

	json_object_set_new(o, "cidr", mval_prefix_json(&b->cidr));
	json_object_set_new(o, "affinity",
	    b->affinity != NULL ? json_string(b->affinity) : json_null());
	if (b->strict_affinity != MODEL_UNSET)
		json_object_set_new(o, "strictAffinity",
		    json_boolean(b->strict_affinity == MODEL_TRUE));
	a = json_array();
	for (i = 0; i < b->nords; i++)
		json_array_append_new(a,
		    b->allocations[i] < 0 ? json_null()
		                          : json_integer(b->allocations[i]));
	json_object_set_new(o, "allocations", a);
	a = json_array();
	for (i = 0; i < b->nunallocated; i++)
		json_array_append_new(a, json_integer(b->unallocated[i]));
	json_object_set_new(o, "unallocated", a);
	a = json_array();
	for (i = 0; i < b->nattrs; i++)
		json_array_append_new(a, ipam_attr_enc(&b->attrs[i]));
	json_object_set_new(o, "attributes", a);
	if (b->deleted != MODEL_UNSET)
		json_object_set_new(
		    o, "deleted", json_boolean(b->deleted == MODEL_TRUE));
	mval_merge_extra(o, b->extra);
	return o;
}

void
model_block_clean(struct model_block *b)
{
	size_t i;

	for (i = 0; i < b->nattrs; i++)
		ipam_attr_clean(&b->attrs[i]);
	free(b->attrs);
	free(b->allocations);
	free(b->unallocated);
	free(b->affinity);
	json_decref(b->extra);
	memset(b, 0, sizeof(*b));
}

/* ---- affinities ---- */

static const char *const aff_states[] = {
    "", "pending", "confirmed", "pendingDeletion", NULL};

const char *
model_affinity_state_name(enum model_affinity_state s)
{
	if ((unsigned)s > MODEL_AFF_PENDING_DELETION)
		return "";
	return aff_states[s];
}

int
model_affinity_from_json(
    const json_t *j, struct model_affinity *a, char *err, size_t errlen)
{
	const char *key, *s;
	struct mctx c;
	json_t *v;
	char r[96];
	int i, rc = 0;

	memset(a, 0, sizeof(*a));
	mctx_init(&c, 0, "", err, errlen);
	if (!json_is_object(j))
		return mctx_err(&c, "expected an affinity (a map), got %s",
		    mctx_repr(j, r, sizeof(r)));
	json_object_foreach((json_t *)j, key, v)
	{
		size_t old = mctx_push(&c, key);

		if (strcmp(key, "state") == 0) {
			if ((rc = mval_string(&c, v, &s)) == 0) {
				for (i = 0; aff_states[i] != NULL; i++)
					if (strcmp(aff_states[i], s) == 0)
						break;
				if (aff_states[i] == NULL)
					rc = mctx_err(&c,
					    "invalid value \"%s\" (expected "
					    "pending, confirmed or "
					    "pendingDeletion)",
					    s);
				else
					a->state = i;
			}
		} else if (strcmp(key, "deleted") == 0)
			rc = mval_tri(&c, v, &a->deleted);
		else
			mval_extra(&a->extra, key, v);
		if (rc == -1)
			break;
		mctx_pop(&c, old);
	}
	if (rc == -1)
		model_affinity_clean(a);
	return rc;
}

json_t *
model_affinity_to_json(const struct model_affinity *a)
{
	json_t *o = json_object();

	if (a->state != MODEL_AFF_NONE)
		json_object_set_new(o, "state",
		    json_string(model_affinity_state_name(a->state)));
	if (a->deleted != MODEL_UNSET)
		json_object_set_new(
		    o, "deleted", json_boolean(a->deleted == MODEL_TRUE));
	mval_merge_extra(o, a->extra);
	return o;
}

void
model_affinity_clean(struct model_affinity *a)
{
	json_decref(a->extra);
	memset(a, 0, sizeof(*a));
}

/* ---- handles ---- */

int
model_handle_add(struct model_handle *h, const struct prefix *cidr, int delta)
{
	size_t i;
	int64_t n;

	for (i = 0; i < h->n; i++)
		if (prefix_cmp(&h->v[i].cidr, cidr) == 0)
			break;
	n = (i < h->n ? (int64_t)h->v[i].count : 0) + delta;
	if (n < 0 || n > UINT32_MAX)
		return -1;
	if (i == h->n) {
		if (n == 0)
			return 0;
		h->v = xreallocarray(h->v, h->n + 1, sizeof(*h->v));
		h->v[h->n].cidr = *cidr;
		h->v[h->n++].count = n;
	} else if (n == 0) {
		memmove(&h->v[i], &h->v[i + 1], (h->n - i - 1) * sizeof(*h->v));
		h->n--;
	} else
		h->v[i].count = n;
	return 0;
}

static int
handle_blocks_dec(struct mctx *c, const json_t *v, struct model_handle *h)
{
	struct prefix p;
	const char *key;
	json_int_t n;
	size_t old;
	json_t *x;
	char r[96];

	if (!json_is_object(v))
		return mctx_err(
		    c, "expected a map, got %s", mctx_repr(v, r, sizeof(r)));
	json_object_foreach((json_t *)v, key, x)
	{
		old = mctx_push(c, key);
		if (model_prefix_parse(key, &p) == -1)
			return mctx_err(c, "invalid CIDR \"%s\"", key);
		if (!json_is_integer(x) || (n = json_integer_value(x)) < 0 ||
		    n > UINT32_MAX)
			return mctx_err(c, "expected a count, got %s",
			    mctx_repr(x, r, sizeof(r)));
		h->v = xreallocarray(h->v, h->n + 1, sizeof(*h->v));
		h->v[h->n].cidr = p;
		h->v[h->n++].count = n;
		mctx_pop(c, old);
	}
	return 0;
}

int
model_handle_from_json(
    const json_t *j, struct model_handle *h, char *err, size_t errlen)
{
	const char *key;
	struct mctx c;
	json_t *v;
	char r[96];
	int rc = 0;

	memset(h, 0, sizeof(*h));
	mctx_init(&c, 0, "", err, errlen);
	if (!json_is_object(j))
		return mctx_err(&c, "expected a handle (a map), got %s",
		    mctx_repr(j, r, sizeof(r)));
	json_object_foreach((json_t *)j, key, v)
	{
		size_t old = mctx_push(&c, key);

		if (strcmp(key, "block") == 0) {
			if (!json_is_null(v))
				rc = handle_blocks_dec(&c, v, h);
		} else if (strcmp(key, "deleted") == 0)
			rc = mval_tri(&c, v, &h->deleted);
		else
			mval_extra(&h->extra, key, v);
		if (rc == -1)
			break;
		mctx_pop(&c, old);
	}
	if (rc == -1)
		model_handle_clean(h);
	return rc;
}

json_t *
model_handle_to_json(const struct model_handle *h)
{
	json_t *o = json_object(), *blocks = json_object();
	char buf[PREFIX_STRLEN];
	size_t i;

	for (i = 0; i < h->n; i++)
		json_object_set_new(blocks,
		    prefix_ntop(&h->v[i].cidr, buf, sizeof(buf)),
		    json_integer(h->v[i].count));
	json_object_set_new(o, "block", blocks);
	if (h->deleted != MODEL_UNSET)
		json_object_set_new(
		    o, "deleted", json_boolean(h->deleted == MODEL_TRUE));
	mval_merge_extra(o, h->extra);
	return o;
}

void
model_handle_clean(struct model_handle *h)
{
	free(h->v);
	json_decref(h->extra);
	memset(h, 0, sizeof(*h));
}

/* ---- IPAM config ---- */

void
model_ipamconfig_init(struct model_ipamconfig *ic)
{
	memset(ic, 0, sizeof(*ic));
	ic->strict_affinity = MODEL_FALSE;
	ic->auto_allocate_blocks = MODEL_TRUE;
}

int
model_ipamconfig_from_json(
    const json_t *j, struct model_ipamconfig *ic, char *err, size_t errlen)
{
	const char *key;
	struct mctx c;
	json_int_t n;
	json_t *v;
	char r[96];
	int rc = 0;

	memset(ic, 0, sizeof(*ic));
	mctx_init(&c, 0, "", err, errlen);
	if (!json_is_object(j))
		return mctx_err(&c, "expected the IPAM config (a map), got %s",
		    mctx_repr(j, r, sizeof(r)));
	json_object_foreach((json_t *)j, key, v)
	{
		size_t old = mctx_push(&c, key);

		if (strcmp(key, "strict_affinity") == 0)
			rc = mval_tri(&c, v, &ic->strict_affinity);
		else if (strcmp(key, "auto_allocate_blocks") == 0)
			rc = mval_tri(&c, v, &ic->auto_allocate_blocks);
		else if (strcmp(key, "maxBlocksPerHost") == 0) {
			if (!json_is_integer(v) ||
			    (n = json_integer_value(v)) < 0 || n > UINT32_MAX)
				rc = mctx_err(&c, "expected a count, got %s",
				    mctx_repr(v, r, sizeof(r)));
			else
				ic->max_blocks_per_host = n;
		} else
			mval_extra(&ic->extra, key, v);
		if (rc == -1)
			break;
		mctx_pop(&c, old);
	}
	if (rc == -1)
		model_ipamconfig_clean(ic);
	return rc;
}

json_t *
model_ipamconfig_to_json(const struct model_ipamconfig *ic)
{
	json_t *o = json_object();

	if (ic->strict_affinity != MODEL_UNSET)
		json_object_set_new(o, "strict_affinity",
		    json_boolean(ic->strict_affinity == MODEL_TRUE));
	if (ic->auto_allocate_blocks != MODEL_UNSET)
		json_object_set_new(o, "auto_allocate_blocks",
		    json_boolean(ic->auto_allocate_blocks == MODEL_TRUE));
	if (ic->max_blocks_per_host != 0)
		json_object_set_new(o, "maxBlocksPerHost",
		    json_integer(ic->max_blocks_per_host));
	mval_merge_extra(o, ic->extra);
	return o;
}

void
model_ipamconfig_clean(struct model_ipamconfig *ic)
{
	json_decref(ic->extra);
	memset(ic, 0, sizeof(*ic));
}

/* ---- keys ---- */

static int ipam_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
ipam_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static bool
ipam_segment_ok(const char *s)
{
	return s != NULL && *s != '\0' && strchr(s, '/') == NULL;
}

static int
ipam_version(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
}

int
model_cidr_key(const struct prefix *p, char *buf, size_t len)
{
	char s[PREFIX_STRLEN], *slash;

	if (p->a.family == 0)
		return -1;
	prefix_ntop(p, s, sizeof(s));
	slash = strchr(s, '/');
	*slash = '-';
	return ipam_fmt(buf, len, "%s", s);
}

int
model_cidr_from_key(const char *s, struct prefix *p)
{
	char buf[PREFIX_STRLEN], *dash;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	/* addresses have no '-', so the last one is the slash */
	if ((dash = strrchr(buf, '-')) == NULL)
		return -1;
	*dash = '/';
	return model_prefix_parse(buf, p);
}

int
model_block_key(const struct prefix *p, char *buf, size_t len)
{
	char c[PREFIX_STRLEN];

	if (model_cidr_key(p, c, sizeof(c)) == -1)
		return -1;
	return ipam_fmt(buf, len, "%sipv%d/block/%s", IPAM_BLOCK_PATH,
	    ipam_version(p->a.family), c);
}

int
model_block_key_prefix(int family, char *buf, size_t len)
{
	if (ipam_version(family) == 0)
		return -1;
	return ipam_fmt(
	    buf, len, "%sipv%d/block/", IPAM_BLOCK_PATH, ipam_version(family));
}

/* "ipv4/block/<cidr>" after a prefix: the CIDR, of that family */
static int
ipam_family_cidr(const char *s, struct prefix *p)
{
	int v;

	if (strncmp(s, "ipv4/block/", 11) == 0)
		v = 4;
	else if (strncmp(s, "ipv6/block/", 11) == 0)
		v = 6;
	else
		return -1;
	if (!ipam_segment_ok(s + 11) || model_cidr_from_key(s + 11, p) == -1 ||
	    ipam_version(p->a.family) != v)
		return -1;
	return 0;
}

int
model_block_key_parse(const char *key, struct prefix *p)
{
	size_t n = strlen(IPAM_BLOCK_PATH);

	if (strncmp(key, IPAM_BLOCK_PATH, n) != 0)
		return -1;
	return ipam_family_cidr(key + n, p);
}

int
model_affinity_key(
    const char *host, const struct prefix *p, char *buf, size_t len)
{
	char c[PREFIX_STRLEN];

	if (!ipam_segment_ok(host) || model_cidr_key(p, c, sizeof(c)) == -1)
		return -1;
	return ipam_fmt(buf, len, "%s%s/ipv%d/block/%s", IPAM_HOST_PATH, host,
	    ipam_version(p->a.family), c);
}

int
model_affinity_key_prefix(const char *host, int family, char *buf, size_t len)
{
	if (host == NULL)
		return ipam_fmt(buf, len, "%s", IPAM_HOST_PATH);
	if (!ipam_segment_ok(host) || ipam_version(family) == 0)
		return -1;
	return ipam_fmt(buf, len, "%s%s/ipv%d/block/", IPAM_HOST_PATH, host,
	    ipam_version(family));
}

int
model_affinity_key_parse(
    const char *key, char *host, size_t hostlen, struct prefix *p)
{
	size_t n = strlen(IPAM_HOST_PATH);
	const char *h, *slash;

	if (strncmp(key, IPAM_HOST_PATH, n) != 0)
		return -1;
	h = key + n;
	if ((slash = strchr(h, '/')) == NULL || slash == h ||
	    (size_t)(slash - h) >= hostlen)
		return -1;
	if (ipam_family_cidr(slash + 1, p) == -1)
		return -1;
	memcpy(host, h, slash - h);
	host[slash - h] = '\0';
	return 0;
}

int
model_handle_key(const char *id, char *buf, size_t len)
{
	if (!ipam_segment_ok(id))
		return -1;
	return ipam_fmt(buf, len, "%s%s", IPAM_HANDLE_PATH, id);
}

int
model_handle_key_parse(const char *key, char *id, size_t len)
{
	size_t n = strlen(IPAM_HANDLE_PATH);

	if (strncmp(key, IPAM_HANDLE_PATH, n) != 0 || !ipam_segment_ok(key + n))
		return -1;
	return ipam_fmt(id, len, "%s", key + n);
}
