/*
 * podmesh-node's startup, calico/node's (calico.md §6; Calico's
 * node/pkg/lifecycle/startup and pkg/allocateip): with the environment read
 * and checked first (startup_env.c), etcd (waited for, with backoff), the Node
 * resource (name, addresses, AS; another node's address refused), the default
 * IP pools, the global BGPConfiguration and ClusterInformation, and the tunnels
 * (tunnel.c), whose addresses are written back to the Node.
 *
 * Every write is a compare-and-swap on what was read (the Node on its
 * mod_revision, the defaults on their absence), and the Node is written
 * only when its encoding differs from that of what was read, so running
 * podmesh-node again with nothing changed reads etcd and writes nothing.
 * Stored data that does not decode is never taken for absent: another
 * Node is still checked for our address, and an IPPool stops the default
 * pool of its family and any tunnel teardown.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include <jansson.h>

#include "lib/log.h"
#include "lib/nl.h"
#include "lib/nl_link.h"
#include "lib/xmalloc.h"
#include "node/node.h"
#include "store/etcd.h"
#include "store/ipam.h"
#include "store/model.h"
#include "store/selector.h"

#define STARTUP_POOL4_NAME "default-ipv4-ippool"
#define STARTUP_POOL6_NAME "default-ipv6-ippool"
#define STARTUP_CAS_TRIES 10

/* ---- the run ---- */

struct startup {
	const struct startup_config *c;
	char name[MODEL_NAME_MAX + 2];
	char key[MODEL_NAME_MAX + 96];
	struct etcd *etcd;
	struct nl *nl;
	struct ipam *ipam;
	struct autodetect_iflist ifl;
	bool have_ifl;

	/* the Node as last read */
	bool exists;
	int64_t rev;
	struct resource node;
	json_t *stored; /* node, encoded */

	/* what this run wants in it */
	struct prefix want4, want6; /* family 0: leave as it is */
	bool tunnels_done;
	struct addr ipip, vxlan; /* family 0: none */
	char vxlan_mac[NL_MAC_STRLEN];

	struct resource *pools; /* every decodable IPPool */
	size_t npools;
	/* the key of an IPPool of the family (IPv4, IPv6) that does not
	 * decode, or NULL: that family gets no default pool, and its
	 * tunnels keep what the Node records */
	char *badpool[2];
	size_t writes;
};

static void
startup_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long
startup_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* what Calico's client adds on create */
static void
startup_meta_new(struct resource *r, const char *name)
{
	free(r->meta.name);
	r->meta.name = xstrdup(name);
	if (r->meta.uid == NULL)
		r->meta.uid = model_uid_new();
	if (r->meta.creation_timestamp == NULL)
		r->meta.creation_timestamp = model_timestamp_now();
}

static char *
startup_dump(const struct resource *r, json_t **jout)
{
	json_t *j = resource_encode(r, MODEL_NO_RV);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s == NULL)
		fatalx("%s: json_dumps", __func__);
	if (jout != NULL)
		*jout = j;
	else
		json_decref(j);
	return s;
}

/* a stored value into r; -1 with "what: why" */
static int
startup_decode(const struct etcd_kv *kv, enum model_kind kind,
    struct resource *r, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;
	char why[MODEL_ERRLEN];

	if ((j = json_loadb(kv->value, kv->value_len, 0, &je)) == NULL)
		return startup_err(
		    err, errlen, "%s: not JSON: %s", kv->key, je.text);
	if (resource_decode(j, r, why, sizeof(why)) == -1) {
		json_decref(j);
		return startup_err(err, errlen, "%s: %s", kv->key, why);
	}
	json_decref(j);
	if (r->kind != kind) {
		resource_clean(r);
		return startup_err(err, errlen, "%s: not a %s", kv->key,
		    model_kind(kind)->name);
	}
	return 0;
}

/* ---- etcd ---- */

/*
 * The first request, retried with backoff while etcd cannot be reached (a
 * node often boots before its datastore): 0.25 s doubling to 5 s, until
 * etcd_timeout_ms has passed.
 */
static int
startup_first_get(
    struct startup *s, struct etcd_result *res, char *err, size_t errlen)
{
	const struct etcd_error *e;
	long start = startup_now_ms(), wait = 250, left;
	int tries = 0;

	for (;;) {
		if (etcd_get(s->etcd, s->key, res) == 0) {
			if (tries > 0)
				log_info("etcd %s answers, after %d attempts "
				         "in %.1f s",
				    etcd_endpoint(s->etcd), tries + 1,
				    (startup_now_ms() - start) / 1000.0);
			return 0;
		}
		e = etcd_last_error(s->etcd);
		tries++;
		left = s->c->etcd_timeout_ms - (startup_now_ms() - start);
		if (e->kind == ETCD_E_AUTH)
			return startup_err(err, errlen, "%s", e->msg);
		if (left <= 0)
			return startup_err(err, errlen,
			    "%s; giving up after %.1f s "
			    "(PODMESH_NODE_ETCD_TIMEOUT=%d)",
			    e->msg, (startup_now_ms() - start) / 1000.0,
			    s->c->etcd_timeout_ms / 1000);
		if (wait > left)
			wait = left;
		log_warnx("%s; retrying in %.2f s (%d attempt%s; giving up "
		          "in %.1f s)",
		    e->msg, wait / 1000.0, tries, tries == 1 ? "" : "s",
		    left / 1000.0);
		startup_sleep_ms(wait);
		wait = wait * 2 > 5000 ? 5000 : wait * 2;
	}
}

static void
startup_node_forget(struct startup *s)
{
	if (s->exists)
		resource_clean(&s->node);
	json_decref(s->stored);
	s->stored = NULL;
	s->exists = false;
	s->rev = 0;
}

/* res: the answer to a get of the Node's key */
static int
startup_node_take(
    struct startup *s, struct etcd_result *res, char *err, size_t errlen)
{
	startup_node_forget(s);
	if (res->nkvs == 0)
		return 0;
	if (startup_decode(&res->kvs[0], MODEL_NODE, &s->node, err, errlen) ==
	    -1)
		return -1;
	/* what was read as podmesh encodes it, so that a spelling of
	 * Calico's (a bare ipv4Address, which reads as /32) is not taken
	 * for a change and rewritten on every run */
	s->stored = resource_encode(&s->node, MODEL_NO_RV);
	s->exists = true;
	s->rev = res->kvs[0].mod_revision;
	return 0;
}

static int
startup_node_read(struct startup *s, char *err, size_t errlen)
{
	struct etcd_result res;
	int rc;

	if (etcd_get(s->etcd, s->key, &res) == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	rc = startup_node_take(s, &res, err, errlen);
	etcd_result_clean(&res);
	return rc;
}

/* puts key only if it is still absent; 1 when it was there already */
static int
startup_create(struct startup *s, const char *key, const struct resource *r,
    char *err, size_t errlen)
{
	struct etcd_result res;
	char *val = startup_dump(r, NULL);
	int rc;

	rc = etcd_cas_put(s->etcd, key, val, strlen(val), 0, 0, &res);
	free(val);
	if (rc == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	etcd_result_clean(&res);
	if (rc == 0)
		s->writes++;
	return rc;
}

typedef void startup_edit_fn(struct startup *, struct resource *);

/*
 * Read-modify-write of the Node: edit applied to what was read, written
 * only if the result differs, compared on its mod_revision and done again
 * on what is there now when someone else wrote it first.
 */
static int
startup_node_update(struct startup *s, startup_edit_fn *edit, const char *what,
    char *err, size_t errlen)
{
	struct etcd_result res;
	struct resource r;
	json_t *j;
	char *val;
	int tries, rc;

	for (tries = 0; tries < STARTUP_CAS_TRIES; tries++) {
		if (tries > 0 && startup_node_read(s, err, errlen) == -1)
			return -1;
		if (s->exists)
			resource_copy(&r, &s->node);
		else {
			resource_init(&r, MODEL_NODE);
			startup_meta_new(&r, s->name);
		}
		edit(s, &r);
		val = startup_dump(&r, &j);
		if (s->exists && json_equal(j, s->stored)) {
			log_debug(
			    "Node %s: %s: nothing to change", s->name, what);
			json_decref(j);
			free(val);
			resource_clean(&r);
			return 0;
		}
		rc = etcd_cas_put(
		    s->etcd, s->key, val, strlen(val), s->rev, 0, &res);
		free(val);
		if (rc == -1) {
			json_decref(j);
			resource_clean(&r);
			return startup_err(err, errlen, "Node %s: %s: %s",
			    s->name, what, etcd_error(s->etcd));
		}
		if (rc == 0) {
			s->writes++;
			log_info("Node %s: %s: %s", s->name, what,
			    s->exists ? "updated" : "created");
			startup_node_forget(s);
			s->node = r;
			s->stored = j;
			s->exists = true;
			s->rev = res.revision;
			etcd_result_clean(&res);
			return 0;
		}
		log_info(
		    "Node %s changed meanwhile; reading it again", s->name);
		etcd_result_clean(&res);
		json_decref(j);
		resource_clean(&r);
	}
	return startup_err(err, errlen,
	    "Node %s: %s: still changing under us after %d tries", s->name,
	    what, STARTUP_CAS_TRIES);
}

/* ---- the node's name and addresses ---- */

static int
startup_name_file_read(const char *path, char *buf, size_t len)
{
	FILE *f;
	char *p;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, (int)len, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	for (p = buf + strlen(buf); p > buf && isspace((unsigned char)p[-1]);)
		*--p = '\0';
	return buf[0] != '\0' && model_name_valid(buf) ? 0 : -1;
}

/* NODENAME, the name file, HOSTNAME, gethostname(): Calico's order */
static int
startup_name(struct startup *s, char *err, size_t errlen)
{
	char buf[MODEL_NAME_MAX + 2], *p;
	const struct startup_config *c = s->c;

	if (c->nodename != NULL)
		snprintf(s->name, sizeof(s->name), "%s", c->nodename);
	else if (c->nodename_file != NULL &&
	    startup_name_file_read(c->nodename_file, buf, sizeof(buf)) == 0)
		snprintf(s->name, sizeof(s->name), "%s", buf);
	else if (c->hostname != NULL)
		snprintf(s->name, sizeof(s->name), "%s", c->hostname);
	else if (c->hostname_bad != NULL)
		return startup_name_err(
		    err, errlen, "HOSTNAME", c->hostname_bad);
	else {
		if (gethostname(buf, sizeof(buf)) == -1)
			return startup_err(err, errlen,
			    "gethostname: %s (set NODENAME)", strerror(errno));
		buf[sizeof(buf) - 1] = '\0';
		for (p = buf; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!model_name_valid(buf))
			return startup_err(err, errlen,
			    "the host name \"%s\" is not a valid node name; "
			    "set NODENAME",
			    buf);
		snprintf(s->name, sizeof(s->name), "%s", buf);
	}
	if (model_key(MODEL_NODE, NULL, s->name, s->key, sizeof(s->key)) == -1)
		return startup_err(
		    err, errlen, "node name %s: no key", s->name);
	return 0;
}

static int
startup_ifl(struct startup *s, char *err, size_t errlen)
{
	if (s->have_ifl)
		return 0;
	if (autodetect_iflist_load(s->nl, &s->ifl, err, errlen) == -1)
		return -1;
	s->have_ifl = true;
	return 0;
}

/*
 * One family's address (Calico's configureIPsAndSubnets): want gets the
 * address to record, or family 0 to leave the Node's as it is.
 */
static int
startup_addr(struct startup *s, int family, const struct startup_ip *ip,
    const struct prefix *cur, struct prefix *want, char *err, size_t errlen)
{
	struct autodetect_result res;
	char a[PREFIX_STRLEN], why[NODE_ERRLEN];
	const char *var = family == AF_INET ? "IP" : "IP6";
	bool detect;

	memset(want, 0, sizeof(*want));
	detect = ip->mode == STARTUP_IP_AUTODETECT ||
	    (family == AF_INET && ip->mode == STARTUP_IP_UNSET &&
	        cur->a.family == 0);
	if (detect) {
		if (startup_ifl(s, err, errlen) == -1)
			return -1;
		if (autodetect_run(ip->method, family, &s->ifl, &res, why,
		        sizeof(why)) == -1) {
			if (cur->a.family == 0)
				return startup_err(err, errlen,
				    "%s; set %s to an address or choose "
				    "another method",
				    why, var);
			log_warnx("%s; keeping the Node's %s", why,
			    prefix_ntop(cur, a, sizeof(a)));
			return 0;
		}
		log_info("%s: %s autodetected on %s (%s)", var,
		    prefix_ntop(&res.prefix, a, sizeof(a)), res.ifname,
		    autodetect_text(ip->method));
		*want = res.prefix;
		return 0;
	}
	if (ip->mode != STARTUP_IP_GIVEN)
		return 0;
	*want = ip->given;
	if (startup_ifl(s, err, errlen) == -1)
		return -1;
	if (autodetect_find(&s->ifl, &ip->given.a, &res) == -1)
		log_warnx("%s: %s is on no local interface", var,
		    prefix_ntop(&ip->given, a, sizeof(a)));
	else if (!ip->given_len)
		want->len = res.prefix.len; /* Calico's GetLocalCIDR */
	return 0;
}

/*
 * One spec.bgp address of a Node that does not decode, read as Calico's
 * ParseCIDROrIP would: 0 absent or empty, 1 in *p, -1 not an address.
 */
static int
startup_raw_addr(const json_t *j, const char *field, struct prefix *p)
{
	const json_t *v = json_object_get(
	    json_object_get(json_object_get(j, "spec"), "bgp"), field);
	const char *a = json_string_value(v);

	memset(p, 0, sizeof(*p));
	if (v == NULL || json_is_null(v) || (a != NULL && *a == '\0'))
		return 0;
	if (a == NULL)
		return -1;
	if (strchr(a, '/') != NULL ? model_prefix_parse(a, p) == -1
	                           : model_addr_parse(a, &p->a) == -1)
		return -1;
	return 1;
}

/*
 * Another Node's addresses (theirs[0] IPv4, theirs[1] IPv6; family 0:
 * none) and what to call it.  A Node that does not decode (a value podmesh
 * refuses, a newer Calico's field) is not left out: its spec.bgp
 * addresses are read as they are stored and compared all the same.  One
 * whose addresses cannot be read at all (not JSON, or not an address) can
 * hold no address of ours: it is skipped with a warning naming it, so
 * that one broken Node does not stop every other node from starting.
 */
static int
startup_their_addrs(
    const struct etcd_kv *kv, struct prefix *theirs, char *name, size_t namelen)
{
	static const char *const fields[2] = {"ipv4Address", "ipv6Address"};
	struct resource r;
	json_error_t je;
	json_t *j;
	char why[NODE_ERRLEN];
	int k;

	memset(theirs, 0, 2 * sizeof(*theirs));
	if (startup_decode(kv, MODEL_NODE, &r, why, sizeof(why)) == 0) {
		snprintf(name, namelen, "node %s", r.meta.name);
		if (r.node.has_bgp) {
			theirs[0] = r.node.bgp.ipv4_address;
			theirs[1] = r.node.bgp.ipv6_address;
		}
		resource_clean(&r);
		return 0;
	}
	snprintf(name, namelen, "the Node at %s", kv->key);
	if ((j = json_loadb(kv->value, kv->value_len, 0, &je)) == NULL) {
		log_warnx("%s; not checked for this node's addresses", why);
		return 0;
	}
	for (k = 0; k < 2; k++)
		if (startup_raw_addr(j, fields[k], &theirs[k]) == -1)
			log_warnx("%s: spec.bgp.%s is not an address; not "
			          "checked for this node's addresses",
			    kv->key, fields[k]);
	json_decref(j);
	log_warnx("%s (its addresses are compared as stored)", why);
	return 0;
}

/*
 * Calico's checkConflictingNodes: no other Node may have mine[0] (IPv4)
 * or mine[1] (IPv6; family 0: none).  Run on every start, not only when
 * the address changes, so that a Node written meanwhile with our address
 * is caught.
 */
static int
startup_conflicts(
    struct startup *s, const struct prefix *mine, char *err, size_t errlen)
{
	struct etcd_result res;
	struct prefix theirs[2];
	char prefix[128], name[MODEL_NAME_MAX + 160], a[ADDR_STRLEN];
	size_t i, k;
	int rc = 0;

	if (mine[0].a.family == 0 && mine[1].a.family == 0)
		return 0;
	if (model_key_prefix(MODEL_NODE, NULL, prefix, sizeof(prefix)) == -1)
		fatalx("%s: prefix", __func__);
	if (etcd_list(s->etcd, prefix, 0, &res) == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	for (i = 0; i < res.nkvs && rc == 0; i++) {
		if (strcmp(res.kvs[i].key, s->key) == 0)
			continue;
		startup_their_addrs(&res.kvs[i], theirs, name, sizeof(name));
		for (k = 0; k < 2 && rc == 0; k++)
			if (mine[k].a.family != 0 &&
			    theirs[k].a.family == mine[k].a.family &&
			    addr_cmp(&theirs[k].a, &mine[k].a) == 0)
				rc = startup_err(err, errlen,
				    "IPv%d address %s is already %s's: "
				    "refusing to register node %s with it "
				    "(DISABLE_NODE_IP_CHECK=true allows it)",
				    k == 0 ? 4 : 6,
				    addr_ntop(&mine[k].a, a, sizeof(a)), name,
				    s->name);
	}
	etcd_result_clean(&res);
	return rc;
}

static void
startup_edit_addrs(struct startup *s, struct resource *r)
{
	struct model_node *n = &r->node;

	n->has_bgp = true;
	if (s->want4.a.family != 0)
		n->bgp.ipv4_address = s->want4;
	if (s->want6.a.family != 0)
		n->bgp.ipv6_address = s->want6;
	if (s->c->asn_given)
		n->bgp.asn = s->c->asn;
}

static int
startup_register(struct startup *s, char *err, size_t errlen)
{
	const struct prefix *cur4 = &s->node.node.bgp.ipv4_address;
	const struct prefix *cur6 = &s->node.node.bgp.ipv6_address;
	struct prefix none, final[2];

	memset(&none, 0, sizeof(none));
	if (!s->exists) {
		cur4 = &none;
		cur6 = &none;
	}
	if (startup_addr(
	        s, AF_INET, &s->c->ip4, cur4, &s->want4, err, errlen) == -1 ||
	    startup_addr(
	        s, AF_INET6, &s->c->ip6, cur6, &s->want6, err, errlen) == -1)
		return -1;
	if (s->want4.a.family == 0 && cur4->a.family == 0 &&
	    s->want6.a.family == 0 && cur6->a.family == 0)
		return startup_err(err, errlen,
		    "no IPv4 or IPv6 address configured or detected for node "
		    "%s (IP, IP6)",
		    s->name);
	/* what the Node will hold */
	final[0] = s->want4.a.family != 0 ? s->want4 : *cur4;
	final[1] = s->want6.a.family != 0 ? s->want6 : *cur6;
	if (!s->c->disable_ip_check &&
	    startup_conflicts(s, final, err, errlen) == -1)
		return -1;
	return startup_node_update(
	    s, startup_edit_addrs, "addresses and AS", err, errlen);
}

/* ---- pools and global defaults ---- */

static void
startup_pools_free(struct startup *s)
{
	size_t i;

	for (i = 0; i < s->npools; i++)
		resource_clean(&s->pools[i]);
	free(s->pools);
	s->pools = NULL;
	s->npools = 0;
	for (i = 0; i < 2; i++) {
		free(s->badpool[i]);
		s->badpool[i] = NULL;
	}
}

/*
 * A pool that does not decode is not absent: its spec.cidr, if that can
 * be read, says which family it blocks; else it blocks both.
 */
static void
startup_pool_bad(struct startup *s, const struct etcd_kv *kv, const char *why)
{
	const char *cidr = NULL, *fam;
	struct prefix p;
	json_t *j;
	int k;

	if ((j = json_loadb(kv->value, kv->value_len, 0, NULL)) != NULL)
		cidr = json_string_value(
		    json_object_get(json_object_get(j, "spec"), "cidr"));
	memset(&p, 0, sizeof(p));
	if (cidr == NULL || model_prefix_parse(cidr, &p) == -1)
		p.a.family = 0;
	json_decref(j);
	fam = p.a.family == AF_INET6 ? "6"
	    : p.a.family == AF_INET  ? "4"
	                             : "4/6";
	log_warnx("%s: this IPPool is not taken for absent: no default IPv%s "
	          "pool is made%s",
	    why, fam,
	    p.a.family == AF_INET6 ? ""
	                           : ", and the IPv4 tunnels keep what the "
	                             "Node records");
	for (k = 0; k < 2; k++)
		if (s->badpool[k] == NULL &&
		    (p.a.family == 0 ||
		        p.a.family == (k == 0 ? AF_INET : AF_INET6)))
			s->badpool[k] = xstrdup(kv->key);
}

static int
startup_pools_load(struct startup *s, char *err, size_t errlen)
{
	struct etcd_result res;
	char prefix[128], why[NODE_ERRLEN];
	size_t i;

	startup_pools_free(s);
	if (model_key_prefix(MODEL_IPPOOL, NULL, prefix, sizeof(prefix)) == -1)
		fatalx("%s: prefix", __func__);
	if (etcd_list(s->etcd, prefix, 0, &res) == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	s->pools = xcalloc(res.nkvs + 1, sizeof(*s->pools));
	for (i = 0; i < res.nkvs; i++) {
		if (startup_decode(&res.kvs[i], MODEL_IPPOOL,
		        &s->pools[s->npools], why, sizeof(why)) == -1) {
			startup_pool_bad(s, &res.kvs[i], why);
			continue;
		}
		s->npools++;
	}
	etcd_result_clean(&res);
	return 0;
}

/* a pool of family, or one that does not decode and may be of it */
static bool
startup_has_pool(const struct startup *s, int family)
{
	const char *bad = s->badpool[family == AF_INET ? 0 : 1];
	size_t i;

	for (i = 0; i < s->npools; i++)
		if (s->pools[i].ippool.cidr.a.family == family)
			return true;
	if (bad != NULL)
		log_warnx("no default IPv%d pool made: %s does not decode, "
		          "and may be one",
		    family == AF_INET ? 4 : 6, bad);
	return bad != NULL;
}

static int
startup_pool_create(struct startup *s, int family, char *err, size_t errlen)
{
	const struct startup_pool *p =
	    family == AF_INET ? &s->c->pool4 : &s->c->pool6;
	const char *name =
	    family == AF_INET ? STARTUP_POOL4_NAME : STARTUP_POOL6_NAME;
	struct resource r, chk;
	char key[256], why[MODEL_ERRLEN], c[PREFIX_STRLEN];
	json_t *j;
	int rc;

	resource_init(&r, MODEL_IPPOOL);
	startup_meta_new(&r, name);
	r.ippool.cidr = p->cidr;
	r.ippool.ipip_mode = p->ipip;
	r.ippool.vxlan_mode = p->vxlan;
	r.ippool.nat_outgoing = p->nat_outgoing;
	r.ippool.disable_bgp_export = p->disable_bgp_export;
	r.ippool.block_size = p->block_size;
	r.ippool.node_selector =
	    xstrdup(p->node_selector != NULL ? p->node_selector : "all()");
	/* what Calico's API would refuse, refused before it is written */
	j = resource_encode(&r, MODEL_NO_RV);
	rc = resource_decode(j, &chk, why, sizeof(why));
	json_decref(j);
	if (rc == -1) {
		resource_clean(&r);
		return startup_err(err, errlen,
		    "CALICO_IPV%dPOOL_*: the default pool would not be valid: "
		    "%s",
		    family == AF_INET ? 4 : 6, why);
	}
	resource_clean(&chk);
	if (resource_key(&r, key, sizeof(key)) == -1)
		fatalx("%s: key", __func__);
	rc = startup_create(s, key, &r, err, errlen);
	if (rc == 0)
		log_info("IPPool %s created: %s, ipipMode %s, vxlanMode %s, "
		         "natOutgoing %s, blockSize %u",
		    name, prefix_ntop(&p->cidr, c, sizeof(c)),
		    model_encap_name(p->ipip), model_encap_name(p->vxlan),
		    p->nat_outgoing ? "true" : "false", p->block_size);
	else if (rc == 1)
		log_info("IPPool %s: made by another node meanwhile", name);
	resource_clean(&r);
	return rc == -1 ? -1 : 0;
}

static int
startup_pools(struct startup *s, char *err, size_t errlen)
{
	const struct startup_config *c = s->c;
	bool v6_in_use, made = false;

	if (startup_pools_load(s, err, errlen) == -1)
		return -1;
	if (c->no_default_pools) {
		log_info("NO_DEFAULT_POOLS: no default pool made");
		return 0;
	}
	if (c->pool4.enabled && !startup_has_pool(s, AF_INET)) {
		if (startup_pool_create(s, AF_INET, err, errlen) == -1)
			return -1;
		made = true;
	}
	/* an IPv6 pool only for a cluster that uses IPv6 */
	v6_in_use = c->pool6.cidr_given ||
	    s->node.node.bgp.ipv6_address.a.family == AF_INET6;
	if (c->pool6.enabled && c->ipv6_support && v6_in_use &&
	    !startup_has_pool(s, AF_INET6)) {
		if (startup_pool_create(s, AF_INET6, err, errlen) == -1)
			return -1;
		made = true;
	}
	return made ? startup_pools_load(s, err, errlen) : 0;
}

/* an existing ClusterInformation gains datastoreReady: true if unset */
static int
startup_update_ready(struct startup *s, const char *key,
    const struct etcd_kv *kv, char *err, size_t errlen)
{
	struct etcd_result res;
	struct resource r;
	char *val;
	int rc;

	if (startup_decode(kv, MODEL_CLUSTERINFO, &r, err, errlen) == -1)
		return -1;
	if (r.clusterinfo.datastore_ready != MODEL_UNSET) {
		resource_clean(&r);
		return 0;
	}
	r.clusterinfo.datastore_ready = MODEL_TRUE;
	val = startup_dump(&r, NULL);
	resource_clean(&r);
	rc = etcd_cas_put(
	    s->etcd, key, val, strlen(val), kv->mod_revision, 0, &res);
	free(val);
	if (rc == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	etcd_result_clean(&res);
	if (rc == 0) {
		s->writes++;
		log_info("ClusterInformation default: datastoreReady set");
	}
	return 0; /* 1: someone else wrote it meanwhile, and set it */
}

/* the global BGPConfiguration and ClusterInformation, when absent */
static int
startup_defaults(struct startup *s, char *err, size_t errlen)
{
	struct etcd_result res;
	struct resource r;
	char key[256], hex[40];
	uint8_t b[16];
	size_t i;
	int rc;

	if (model_key(MODEL_BGPCONFIG, NULL, "default", key, sizeof(key)) == -1)
		fatalx("%s: key", __func__);
	resource_init(&r, MODEL_BGPCONFIG);
	startup_meta_new(&r, "default");
	rc = startup_create(s, key, &r, err, errlen);
	resource_clean(&r);
	if (rc == -1)
		return -1;
	if (rc == 0)
		log_info("BGPConfiguration default created");

	if (model_key(MODEL_CLUSTERINFO, NULL, "default", key, sizeof(key)) ==
	    -1)
		fatalx("%s: key", __func__);
	if (etcd_get(s->etcd, key, &res) == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	if (res.nkvs > 0) {
		rc = startup_update_ready(s, key, &res.kvs[0], err, errlen);
		etcd_result_clean(&res);
		return rc;
	}
	etcd_result_clean(&res);
	resource_init(&r, MODEL_CLUSTERINFO);
	startup_meta_new(&r, "default");
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		for (i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)random();
	for (i = 0; i < sizeof(b); i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	r.clusterinfo.cluster_guid = xstrdup(hex);
	if (s->c->cluster_type != NULL)
		r.clusterinfo.cluster_type = xstrdup(s->c->cluster_type);
	r.clusterinfo.datastore_ready = MODEL_TRUE;
	rc = startup_create(s, key, &r, err, errlen);
	resource_clean(&r);
	if (rc == 0)
		log_info("ClusterInformation default created");
	return rc == -1 ? -1 : 0;
}

/* ---- tunnels ---- */

/* the enabled IPv4 pools of an encapsulation whose selector takes us */
static size_t
startup_encap_pools(struct startup *s, enum tunnel_type t, struct prefix *out)
{
	const struct model_ippool *p;
	struct selector *sel;
	struct labels lv;
	char why[256];
	size_t i, n = 0;
	int mode;

	model_labels_view(&s->node.meta.labels, &lv);
	for (i = 0; i < s->npools; i++) {
		p = &s->pools[i].ippool;
		mode = t == TUNNEL_IPIP ? p->ipip_mode : p->vxlan_mode;
		if (p->disabled || p->cidr.a.family != AF_INET ||
		    mode == MODEL_ENCAP_NEVER || mode == MODEL_ENCAP_UNSET)
			continue;
		sel = selector_parse(
		    p->node_selector != NULL ? p->node_selector : "all()", why,
		    sizeof(why));
		if (sel == NULL) {
			log_warnx("IPPool %s: nodeSelector: %s (pool left out)",
			    s->pools[i].meta.name, why);
			continue;
		}
		if (selector_match(sel, &lv))
			out[n++] = p->cidr;
		selector_free(sel);
	}
	return n;
}

static int
startup_ipam(struct startup *s, char *err, size_t errlen)
{
	if (s->ipam == NULL && (s->ipam = ipam_new(s->etcd, s->name)) == NULL)
		return startup_err(
		    err, errlen, "IPAM: bad host name %s", s->name);
	return 0;
}

/*
 * With an IPv4 pool that does not decode, which pools hold which tunnel
 * address cannot be known: nothing is assigned or released, and a tunnel
 * the Node records stays (its device brought up with it).  1 when that
 * is the case, 0 when the tunnel can be worked out.
 */
static int
startup_tunnel_kept(
    struct startup *s, enum tunnel_type t, const struct addr *rec)
{
	char a[ADDR_STRLEN];

	if (s->badpool[0] == NULL)
		return 0;
	if (rec->family == AF_INET)
		log_warnx("%s does not decode: the %s tunnel keeps %s, which "
		          "node %s records",
		    s->badpool[0], t == TUNNEL_IPIP ? "IPIP" : "VXLAN",
		    addr_ntop(rec, a, sizeof(a)), s->name);
	else
		log_warnx("%s does not decode: no %s tunnel address is "
		          "assigned or released until it does",
		    s->badpool[0], t == TUNNEL_IPIP ? "IPIP" : "VXLAN");
	return 1;
}

static int
startup_ipip(struct startup *s, char *err, size_t errlen)
{
	struct prefix *pools = xcalloc(s->npools + 1, sizeof(*pools));
	size_t n = startup_encap_pools(s, TUNNEL_IPIP, pools);
	const struct addr *rec = &s->node.node.bgp.ipv4_ipip_tunnel_addr;
	bool changed;
	int rc = -1;

	memset(&s->ipip, 0, sizeof(s->ipip));
	if (startup_tunnel_kept(s, TUNNEL_IPIP, rec)) {
		s->ipip = *rec;
		rc = rec->family == AF_INET
		    ? tunnel_ipip_up(s->nl, rec, s->c->ipip_mtu, err, errlen)
		    : 0;
		goto done;
	}
	if (startup_ipam(s, err, errlen) == -1)
		goto done;
	if (n == 0) {
		if (tunnel_addr_release(s->ipam, TUNNEL_IPIP, s->name, rec,
		        &changed, err, errlen) == -1 ||
		    tunnel_ipip_down(s->nl, err, errlen) == -1)
			goto done;
		if (changed)
			s->writes++;
		rc = 0;
		goto done;
	}
	if (tunnel_addr_ensure(s->ipam, TUNNEL_IPIP, s->name, rec, pools, n,
	        &s->ipip, &changed, err, errlen) == -1)
		goto done;
	if (changed)
		s->writes++;
	rc = tunnel_ipip_up(s->nl, &s->ipip, s->c->ipip_mtu, err, errlen);
done:
	free(pools);
	return rc;
}

static int
startup_vxlan(struct startup *s, char *err, size_t errlen)
{
	struct prefix *pools = xcalloc(s->npools + 1, sizeof(*pools));
	size_t n = startup_encap_pools(s, TUNNEL_VXLAN, pools);
	const struct model_node *nd = &s->node.node;
	const struct addr *rec = &nd->ipv4_vxlan_tunnel_addr;
	struct tunnel_vxlan tv;
	uint8_t mac[NL_MACLEN];
	bool changed;
	int rc = -1;

	memset(&s->vxlan, 0, sizeof(s->vxlan));
	s->vxlan_mac[0] = '\0';
	if (startup_tunnel_kept(s, TUNNEL_VXLAN, rec)) {
		s->vxlan = *rec;
		if (nd->vxlan_tunnel_mac != NULL)
			snprintf(s->vxlan_mac, sizeof(s->vxlan_mac), "%s",
			    nd->vxlan_tunnel_mac);
		if (rec->family != AF_INET ||
		    nd->bgp.ipv4_address.a.family != AF_INET) {
			rc = 0;
			goto done;
		}
	} else {
		if (startup_ipam(s, err, errlen) == -1)
			goto done;
		if (n == 0) {
			if (tunnel_addr_release(s->ipam, TUNNEL_VXLAN, s->name,
			        rec, &changed, err, errlen) == -1 ||
			    tunnel_vxlan_down(s->nl, err, errlen) == -1)
				goto done;
			if (changed)
				s->writes++;
			rc = 0;
			goto done;
		}
		if (nd->bgp.ipv4_address.a.family != AF_INET) {
			startup_err(err, errlen,
			    "a VXLAN pool needs node %s's IPv4 address (IP) "
			    "for %s's local end",
			    s->name, NODE_VXLAN_DEV);
			goto done;
		}
		if (tunnel_addr_ensure(s->ipam, TUNNEL_VXLAN, s->name, rec,
		        pools, n, &s->vxlan, &changed, err, errlen) == -1)
			goto done;
		if (changed)
			s->writes++;
	}
	memset(&tv, 0, sizeof(tv));
	tv.vni = s->c->vxlan_vni;
	tv.port = s->c->vxlan_port;
	tv.local = nd->bgp.ipv4_address.a;
	tv.mtu = s->c->vxlan_mtu;
	if (nd->vxlan_tunnel_mac != NULL &&
	    nl_mac_parse(nd->vxlan_tunnel_mac, tv.mac) == 0)
		tv.has_mac = true;
	if (tunnel_vxlan_up(s->nl, &tv, &s->vxlan, mac, err, errlen) == -1)
		goto done;
	nl_mac_ntop(mac, s->vxlan_mac, sizeof(s->vxlan_mac));
	rc = 0;
done:
	free(pools);
	return rc;
}

static void
startup_edit_tunnels(struct startup *s, struct resource *r)
{
	struct model_node *n = &r->node;

	n->bgp.ipv4_ipip_tunnel_addr = s->ipip;
	n->ipv4_vxlan_tunnel_addr = s->vxlan;
	free(n->vxlan_tunnel_mac);
	n->vxlan_tunnel_mac =
	    s->vxlan_mac[0] != '\0' ? xstrdup(s->vxlan_mac) : NULL;
}

static int
startup_tunnels(struct startup *s, char *err, size_t errlen)
{
	if (startup_ipip(s, err, errlen) == -1 ||
	    startup_vxlan(s, err, errlen) == -1)
		return -1;
	return startup_node_update(
	    s, startup_edit_tunnels, "tunnel addresses", err, errlen);
}

/* the name, for what starts next (Calico's /var/lib/calico/nodename) */
static int
startup_name_file_write(struct startup *s, char *err, size_t errlen)
{
	char buf[MODEL_NAME_MAX + 2], *tmp;
	FILE *f;

	if (s->c->nodename_file == NULL)
		return 0;
	if (startup_name_file_read(s->c->nodename_file, buf, sizeof(buf)) ==
	        0 &&
	    strcmp(buf, s->name) == 0)
		return 0;
	xasprintf(&tmp, "%s.tmp%ld", s->c->nodename_file, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%s", s->name) < 0 ||
	    fclose(f) != 0 || rename(tmp, s->c->nodename_file) == -1) {
		startup_err(err, errlen, "NODENAME_FILE: %s: %s",
		    s->c->nodename_file, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int
startup_run(const struct startup_config *c, char *err, size_t errlen)
{
	struct startup s;
	struct etcd_config ec;
	struct etcd_error ee;
	struct etcd_result res;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	s.c = c;
	if (startup_name(&s, err, errlen) == -1)
		return -1;
	log_info("node %s: starting", s.name);
	if ((s.nl = nl_open(0, err, errlen)) == NULL)
		return -1;
	memset(&ec, 0, sizeof(ec));
	ec.endpoints = c->etcd_endpoints;
	ec.ca_file = c->etcd_ca;
	ec.cert_file = c->etcd_cert;
	ec.key_file = c->etcd_key;
	ec.username = c->etcd_user;
	ec.password = c->etcd_password;
	ec.connect_timeout_ms = 1000;
	ec.timeout_ms = 10000;
	if ((s.etcd = etcd_new(&ec, &ee)) == NULL) {
		startup_err(err, errlen, "ETCD_ENDPOINTS: %s", ee.msg);
		goto done;
	}
	if (startup_first_get(&s, &res, err, errlen) == -1)
		goto done;
	rc = startup_node_take(&s, &res, err, errlen);
	etcd_result_clean(&res);
	if (rc == -1)
		goto done;
	rc = -1;
	if (startup_register(&s, err, errlen) == -1 ||
	    startup_pools(&s, err, errlen) == -1 ||
	    startup_defaults(&s, err, errlen) == -1 ||
	    startup_tunnels(&s, err, errlen) == -1 ||
	    startup_name_file_write(&s, err, errlen) == -1)
		goto done;
	log_info("node %s: ready (%zu write%s to etcd)", s.name, s.writes,
	    s.writes == 1 ? "" : "s");
	rc = 0;
done:
	startup_pools_free(&s);
	startup_node_forget(&s);
	autodetect_iflist_clean(&s.ifl);
	ipam_free(s.ipam);
	if (s.etcd != NULL)
		etcd_free(s.etcd);
	nl_close(s.nl);
	return rc;
}
