/*
 * The IPAM tree of Calico v2.6 (calico.md §2), under /calico/ipam/v2/ in
 * both eras, for v3: blocks and affinities name the v3 (normalised) node,
 * as calico-upgrade's migrateIPAMData does, handles and the IPAM config go
 * as they are, through the model so that what is written is what v3 reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "store/migrate_int.h"

static bool
eq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static int
ipam_family(const char *s)
{
	return eq(s, "ipv4") ? AF_INET : eq(s, "ipv6") ? AF_INET6 : 0;
}

/* the CIDR segment of a key, of the family named beside it */
static int
key_cidr(struct conv *c, const struct etcdv2_node *n, const char *s, int family,
    struct prefix *p)
{
	if (family != 0 && model_cidr_from_key(s, p) == 0 &&
	    p->a.family == family)
		return 0;
	migrate_v1_msg(c, MIGRATE_ERROR, n->key,
	    "\"%s\" in the key is not a CIDR of "
	    "the family beside it",
	    s);
	return -1;
}

void
migrate_ipam_block(struct conv *c, const struct etcdv2_node *n, const char *ver,
    const char *keycidr)
{
	char err[MODEL_ERRLEN], key[KEY_MAX], a[PREFIX_STRLEN],
	    name[MODEL_NAME_MAX + 1];
	const char *h = NULL;
	struct model_block b;
	struct prefix kp;
	struct v1block *vb;
	json_t *j, *ha;

	if (key_cidr(c, n, keycidr, ipam_family(ver), &kp) == -1 ||
	    (j = migrate_v1_object(c, n)) == NULL)
		return;
	if (model_block_from_json(j, &b, err, sizeof(err)) == -1) {
		json_decref(j);
		migrate_v1_msg(c, MIGRATE_ERROR, n->key, "%s", err);
		return;
	}
	json_decref(j);
	if (prefix_cmp(&b.cidr, &kp) != 0) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key,
		    "cidr %s is not the key's",
		    prefix_ntop(&b.cidr, a, sizeof(a)));
		goto out;
	}
	/* compat.ensureBlockAffinity: the older hostAffinity member */
	ha = b.extra != NULL ? json_object_get(b.extra, "hostAffinity") : NULL;
	if (b.affinity == NULL && json_is_string(ha))
		xasprintf(&b.affinity, "%s%s", MODEL_AFFINITY_HOST,
		    json_string_value(ha));
	if (ha != NULL)
		json_object_del(b.extra, "hostAffinity");
	/* migrateIPAMData: the affinity names the v3 node */
	if ((h = model_block_host(&b)) != NULL) {
		if (migrate_v1_node_name(c, h, n->key, name, sizeof(name)) ==
		    -1)
			goto out;
		free(b.affinity);
		xasprintf(&b.affinity, "%s%s", MODEL_AFFINITY_HOST, name);
		h = name;
	}
	c->blocks = xreallocarray(c->blocks, c->nblocks + 1, sizeof(*vb));
	vb = &c->blocks[c->nblocks++];
	vb->cidr = b.cidr;
	vb->host = h != NULL ? xstrdup(h) : NULL;
	model_block_key(&b.cidr, key, sizeof(key));
	snprintf(name, sizeof(name), "IPAM block %s",
	    prefix_ntop(&b.cidr, a, sizeof(a)));
	migrate_v1_add_item(
	    c, PHASE_BLOCK, key, model_block_to_json(&b), n->key, name);
out:
	model_block_clean(&b);
}

/*
 * v2.6 writes "{}" when it claims a block and the block after it, so an
 * affinity whose block is affine to its host is a finished claim:
 * confirmed in v3.  One without (a claim cut short) is pending, which v3
 * finishes (creating the block) or drops (the block is another host's).
 */
void
migrate_ipam_affinity(struct conv *c, const struct etcdv2_node *n)
{
	char err[MODEL_ERRLEN], key[KEY_MAX], a[PREFIX_STRLEN],
	    name[MODEL_NAME_MAX + 1], what[MODEL_NAME_MAX + 80];
	struct model_affinity af;
	const struct v1block *vb = NULL;
	struct prefix p;
	struct segs sg;
	json_t *j = NULL;
	size_t i;

	migrate_v1_split(
	    n->key, &sg); /* /calico/ipam/v2/host/<h>/ipv4/block/<cidr> */
	if (key_cidr(c, n, sg.s[7], ipam_family(sg.s[5]), &p) == -1 ||
	    migrate_v1_node_name(c, sg.s[4], n->key, name, sizeof(name)) == -1)
		return;
	memset(&af, 0, sizeof(af));
	if (n->value_len > 0) {
		if ((j = migrate_v1_object(c, n)) == NULL)
			return;
		if (model_affinity_from_json(j, &af, err, sizeof(err)) == -1) {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key, "%s", err);
			json_decref(j);
			return;
		}
		json_decref(j);
	}
	for (i = 0; i < c->nblocks; i++)
		if (prefix_cmp(&c->blocks[i].cidr, &p) == 0)
			vb = &c->blocks[i];
	if (af.state == MODEL_AFF_NONE) {
		if (vb != NULL && vb->host != NULL && eq(vb->host, name))
			af.state = MODEL_AFF_CONFIRMED;
		else {
			af.state = MODEL_AFF_PENDING;
			migrate_v1_msg(c, MIGRATE_WARNING, n->key,
			    "%s: pending (a claim v2.6 did not finish; v3 "
			    "completes or drops it)",
			    vb == NULL ? "no such block"
			        : vb->host == NULL
			        ? "the block has no host affinity"
			        : "the block is affine to another host");
		}
	}
	if (af.deleted == MODEL_UNSET)
		af.deleted = MODEL_FALSE;
	model_affinity_key(name, &p, key, sizeof(key));
	snprintf(what, sizeof(what), "IPAM affinity %s of %s",
	    prefix_ntop(&p, a, sizeof(a)), name);
	migrate_v1_add_item(
	    c, PHASE_AFFINITY, key, model_affinity_to_json(&af), n->key, what);
	model_affinity_clean(&af);
}

void
migrate_ipam_handle(struct conv *c, const struct etcdv2_node *n, const char *id)
{
	char err[MODEL_ERRLEN], key[KEY_MAX], what[KEY_MAX];
	struct model_handle h;
	json_t *j;

	if ((j = migrate_v1_object(c, n)) == NULL)
		return;
	if (model_handle_from_json(j, &h, err, sizeof(err)) == -1) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key, "%s", err);
		json_decref(j);
		return;
	}
	json_decref(j);
	if (model_handle_key(id, key, sizeof(key)) == -1)
		migrate_v1_msg(c, MIGRATE_ERROR, n->key,
		    "handle \"%s\" has no v3 key", id);
	else {
		snprintf(what, sizeof(what), "IPAM handle %s", id);
		migrate_v1_add_item(c, PHASE_HANDLE, key,
		    model_handle_to_json(&h), n->key, what);
	}
	model_handle_clean(&h);
}

void
migrate_ipam_config(struct conv *c, const struct etcdv2_node *n)
{
	struct model_ipamconfig ic;
	char err[MODEL_ERRLEN];
	json_t *j;

	if ((j = migrate_v1_object(c, n)) == NULL)
		return;
	if (model_ipamconfig_from_json(j, &ic, err, sizeof(err)) == -1)
		migrate_v1_msg(c, MIGRATE_ERROR, n->key, "%s", err);
	else {
		migrate_v1_add_item(c, PHASE_IPAMCONFIG, MODEL_IPAM_CONFIG_KEY,
		    model_ipamconfig_to_json(&ic), n->key, "IPAM config");
		model_ipamconfig_clean(&ic);
	}
	json_decref(j);
}
