/*
 * What is done with a configuration once loaded (config.c loads it): deep
 * copies (datastore mode builds the node's configuration on the file's),
 * the comparison a reload uses to keep unchanged sessions up, the lookup
 * of the peer configured for an address, and the own-blocks import
 * filter.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "bgp/config.h"

static char *
cfg_strdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void *
cfg_memdup(const void *p, size_t n, size_t size)
{
	void *q;

	if (n == 0)
		return NULL;
	q = xreallocarray(NULL, n, size);
	memcpy(q, p, n * size);
	return q;
}

struct peer_config *
peer_config_dup(const struct peer_config *pc)
{
	struct peer_config *n = xmalloc(sizeof(*n));

	*n = *pc;
	n->password = cfg_strdup(pc->password);
	n->description = cfg_strdup(pc->description);
	return n;
}

struct bgpd_config *
config_dup(const struct bgpd_config *c)
{
	struct bgpd_config *n = xmalloc(sizeof(*n));
	const struct datastore_config *ds = &c->datastore;
	struct peer_config *pc;
	size_t i;

	*n = *c;
	n->path = cfg_strdup(c->path);
	n->control_socket = cfg_strdup(c->control_socket);
	n->originate =
	    cfg_memdup(c->originate, c->noriginate, sizeof(*c->originate));
	n->node_name = cfg_strdup(c->node_name);
	n->own_blocks =
	    cfg_memdup(c->own_blocks, c->nown_blocks, sizeof(*c->own_blocks));
	n->lent = cfg_memdup(c->lent, c->nlent, sizeof(*c->lent));
	memset(&n->datastore, 0, sizeof(n->datastore));
	n->datastore.type = cfg_strdup(ds->type);
	n->datastore.ca_file = cfg_strdup(ds->ca_file);
	n->datastore.cert_file = cfg_strdup(ds->cert_file);
	n->datastore.key_file = cfg_strdup(ds->key_file);
	n->datastore.username = cfg_strdup(ds->username);
	n->datastore.password = cfg_strdup(ds->password);
	if (ds->nendpoints > 0)
		n->datastore.endpoints =
		    xcalloc(ds->nendpoints, sizeof(*ds->endpoints));
	for (i = 0; i < ds->nendpoints; i++)
		n->datastore.endpoints[i] = xstrdup(ds->endpoints[i]);
	n->datastore.nendpoints = ds->nendpoints;
	TAILQ_INIT(&n->peers);
	TAILQ_FOREACH(pc, &c->peers, entry)
	{
		/* the macro evaluates its element more than once */
		struct peer_config *copy = peer_config_dup(pc);

		TAILQ_INSERT_TAIL(&n->peers, copy, entry);
	}
	return n;
}

/*
 * Our block itself, or anything inside it, from a peer: another node
 * claiming our addresses (a stale announcement, or a hijack that a higher
 * LOCAL_PREF would let win over our own).  A node's blocks are a handful:
 * a linear scan is the right tool.
 */
bool
config_import_refused(const struct bgpd_config *c, const struct prefix *p)
{
	size_t i;

	for (i = 0; i < c->nown_blocks; i++) {
		if (c->own_blocks[i].a.family != p->a.family ||
		    p->len < c->own_blocks[i].len ||
		    !prefix_contains(&c->own_blocks[i], &p->a))
			continue;
		for (i = 0; i < c->nlent; i++)
			if (prefix_cmp(&c->lent[i], p) == 0)
				return false;
		return true;
	}
	return false;
}

static bool
cfg_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * Every setting that a running session depends on; `line` is not one, so a
 * peer moved within the file keeps its session across a reload.
 */
bool
peer_config_equal(const struct peer_config *a, const struct peer_config *b)
{
	if (a->is_range != b->is_range || a->kind != b->kind)
		return false;
	if (a->is_range ? prefix_cmp(&a->range, &b->range) != 0
	                : addr_cmp(&a->addr, &b->addr) != 0)
		return false;
	return a->asn == b->asn && a->port == b->port &&
	    a->passive == b->passive && a->rr_client == b->rr_client &&
	    cfg_streq(a->password, b->password) &&
	    a->add_paths == b->add_paths &&
	    a->add_paths_max == b->add_paths_max &&
	    memcmp(a->families, b->families, sizeof(a->families)) == 0 &&
	    a->holdtime == b->holdtime &&
	    a->connect_retry == b->connect_retry &&
	    a->multihop == b->multihop && a->ttl_security == b->ttl_security &&
	    addr_cmp(&a->local_addr, &b->local_addr) == 0 &&
	    a->graceful_restart == b->graceful_restart &&
	    a->next_hop_self == b->next_hop_self &&
	    a->max_sessions == b->max_sessions &&
	    cfg_streq(a->description, b->description);
}

/* calicoctl's words for PEER TYPE; "static" for the file's own peers */
const char *
peer_kind_name(enum peer_kind kind)
{
	switch (kind) {
	case PEER_KIND_MESH:
		return "node-to-node mesh";
	case PEER_KIND_GLOBAL:
		return "global";
	case PEER_KIND_NODE:
		return "node specific";
	case PEER_KIND_CONFIG:
	default:
		return "static";
	}
}

/* the static peer with that address, else the most specific range */
struct peer_config *
config_find_peer(const struct bgpd_config *conf, const struct addr *a)
{
	struct peer_config *pc, *best = NULL;

	TAILQ_FOREACH(pc, &conf->peers, entry)
	{
		if (!pc->is_range) {
			if (addr_cmp(&pc->addr, a) == 0)
				return pc;
			continue;
		}
		if (prefix_contains(&pc->range, a) &&
		    (best == NULL || pc->range.len > best->range.len))
			best = pc;
	}
	return best;
}
