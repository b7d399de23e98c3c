/*
 * ipam_drive: the IPAM client (store/ipam.h) on a real etcd, for
 * t_ipam.sh: many allocating processes at once, the release of everything
 * they got, and a consistency check of the whole IPAM tree.
 *
 *   ipam_drive -e URL stress -o DIR [-6] [-p CIDR] HOSTS CLIENTS COUNT
 *	HOSTS (comma separated) x CLIENTS processes, started together, each
 *	auto-assigning COUNT addresses with handles "st-HOST-C-I" (attrs
 *	{node: HOST}); each writes "OK HANDLE ADDR" or "ERR HANDLE KIND
 *	MESSAGE" (KIND: ipam_error_kind(), "exhausted") lines to DIR/HOST-C.
 *Prints "assigned N failed M duplicates D seconds S" and exits 1 if an address
 *came out twice. ipam_drive -e URL release CLIENTS every handle in etcd,
 *released by CLIENTS processes at once. ipam_drive -e URL verify [-E] [-s] the
 *tree is consistent: blocks decode and do not overlap, every attribute is used,
 *each handle counts exactly what the blocks hold for it, no handle counts
 *nothing, a block affine to a host has that host's affinity key confirmed,
 *every affinity key has its block (-s: a pending one is no error, for a tree
 *mid-claim).  -E: also nothing is allocated and no handle is left.  Prints
 *"blocks B allocations A handles H affinities F" and per host "host H blocks
 *N", then each problem on stderr (exit 1). ipam_drive -e URL remove-host HOST |
 *release-ip ADDR | handle ID ipam_remove_host(); ipam_release_ip() (exit 3 with
 *the message when the address was not assigned, 1 on an error);
 *ipam_handle_get(), one address a line. ipam_drive -e URL walk HOST CIDR
 *BLOCKLEN [N] the first N (default 1) blocks of HOST's walk over the pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/ipam.h"
#include "store/ipam_int.h"
#include "store/model.h"
#include "store/store.h"

static const char *endpoint = "http://127.0.0.1:2379";
static int problems;

static struct etcd *
drive_etcd(void)
{
	struct etcd_config cfg;
	struct etcd_error err;
	struct etcd *e;

	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoints = endpoint;
	cfg.timeout_ms = 30000;
	if ((e = etcd_new(&cfg, &err)) == NULL) {
		fprintf(stderr, "ipam_drive: %s\n", err.msg);
		exit(2);
	}
	return e;
}

static double
drive_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void problem(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
problem(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "PROBLEM: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	problems++;
}

/* ---- stress ---- */

static const char *
kind_name(enum ipam_error k)
{
	static const char *const names[] = {
	    [IPAM_E_NONE] = "none",
	    [IPAM_E_OTHER] = "other",
	    [IPAM_E_DATASTORE] = "datastore",
	    [IPAM_E_BUSY] = "busy",
	    [IPAM_E_INVALID] = "invalid",
	    [IPAM_E_NOPOOL] = "nopool",
	    [IPAM_E_EXHAUSTED] = "exhausted",
	    [IPAM_E_LIMIT] = "limit",
	    [IPAM_E_ASSIGNED] = "assigned",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static void
stress_child(const char *host, int client, int count, int family,
    const struct prefix *pool, const char *dir, int go)
{
	struct ipam_request req;
	struct model_labels attrs;
	struct etcd *e;
	struct ipam *ip;
	struct addr a;
	char path[1024], handle[256], err[IPAM_ERRLEN], s[ADDR_STRLEN], c;
	FILE *out;
	int i;

	snprintf(path, sizeof(path), "%s/%s-%d", dir, host, client);
	if ((out = fopen(path, "w")) == NULL)
		_exit(3);
	e = drive_etcd();
	if ((ip = ipam_new(e, host)) == NULL)
		_exit(3);
	memset(&attrs, 0, sizeof(attrs));
	model_labels_set(&attrs, "node", host);
	memset(&req, 0, sizeof(req));
	req.family = family;
	req.attrs = &attrs;
	if (pool != NULL) {
		req.pools = pool;
		req.npools = 1;
	}
	/* wait for the start: the parent closes the pipe */
	while (read(go, &c, 1) == -1 && errno == EINTR)
		;
	for (i = 0; i < count; i++) {
		snprintf(
		    handle, sizeof(handle), "st-%s-%d-%d", host, client, i);
		req.handle = handle;
		if (ipam_auto_assign(ip, &req, &a, err, sizeof(err)) == 0)
			fprintf(out, "OK %s %s\n", handle,
			    addr_ntop(&a, s, sizeof(s)));
		else
			fprintf(out, "ERR %s %s %s\n", handle,
			    kind_name(ipam_error_kind(ip)), err);
	}
	fclose(out);
	ipam_free(ip);
	etcd_free(e);
	model_labels_clean(&attrs);
	_exit(0);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
stress(int argc, char **argv)
{
	const char *dir = NULL, *hostlist;
	struct prefix pool, *poolp = NULL;
	char *hosts[64], *tmp, *tok, *save, path[1024], line[1024];
	char **addrs = NULL;
	size_t naddrs = 0, nerr = 0, dups = 0, i;
	int family = AF_INET, nhosts = 0, clients, count, h, k, opt, go[2],
	    status, bad = 0;
	double t0, t1;
	pid_t pid;
	FILE *f;

	optind = 0; /* GNU getopt: start afresh */
	while ((opt = getopt(argc, argv, "o:6p:")) != -1)
		switch (opt) {
		case 'o':
			dir = optarg;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'p':
			if (prefix_parse(optarg, &pool) == -1)
				return 2;
			poolp = &pool;
			break;
		default:
			return 2;
		}
	if (dir == NULL || argc - optind != 3)
		return 2;
	hostlist = argv[optind];
	clients = atoi(argv[optind + 1]);
	count = atoi(argv[optind + 2]);
	tmp = xstrdup(hostlist);
	for (tok = strtok_r(tmp, ",", &save); tok != NULL && nhosts < 64;
	     tok = strtok_r(NULL, ",", &save))
		hosts[nhosts++] = tok;
	if (pipe(go) == -1)
		return 2;
	for (h = 0; h < nhosts; h++)
		for (k = 0; k < clients; k++) {
			if ((pid = fork()) == -1)
				return 2;
			if (pid == 0) {
				close(go[1]);
				stress_child(hosts[h], k, count, family, poolp,
				    dir, go[0]);
			}
		}
	close(go[0]);
	usleep(200000); /* let every child connect and wait */
	t0 = drive_now();
	close(go[1]);
	while ((pid = wait(&status)) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	t1 = drive_now();
	for (h = 0; h < nhosts; h++)
		for (k = 0; k < clients; k++) {
			snprintf(
			    path, sizeof(path), "%s/%s-%d", dir, hosts[h], k);
			if ((f = fopen(path, "r")) == NULL) {
				problem("%s: no output", path);
				continue;
			}
			while (fgets(line, sizeof(line), f) != NULL) {
				char *sp;

				line[strcspn(line, "\n")] = '\0';
				if (strncmp(line, "OK ", 3) != 0) {
					nerr++;
					continue;
				}
				sp = strrchr(line, ' ');
				addrs = xreallocarray(
				    addrs, naddrs + 1, sizeof(*addrs));
				addrs[naddrs++] = xstrdup(sp + 1);
			}
			fclose(f);
		}
	qsort(addrs, naddrs, sizeof(*addrs), str_cmp);
	for (i = 1; i < naddrs; i++)
		if (strcmp(addrs[i - 1], addrs[i]) == 0) {
			problem("%s handed out twice", addrs[i]);
			dups++;
		}
	if (bad > 0)
		problem("%d clients failed", bad);
	printf("assigned %zu failed %zu duplicates %zu seconds %.2f\n", naddrs,
	    nerr, dups, t1 - t0);
	for (i = 0; i < naddrs; i++)
		free(addrs[i]);
	free(addrs);
	free(tmp);
	return problems > 0;
}

/* ---- release ---- */

static int
release(int argc, char **argv)
{
	struct etcd_result res;
	struct etcd *e;
	char id[IPAM_KEYLEN], err[IPAM_ERRLEN], **ids;
	size_t n = 0, i;
	int clients, k, status, bad = 0;
	pid_t pid;

	if (argc != 2)
		return 2;
	clients = atoi(argv[1]);
	e = drive_etcd();
	if (etcd_list(e, MODEL_IPAM_PREFIX "handle/", 0, &res) == -1) {
		fprintf(stderr, "ipam_drive: %s\n", etcd_error(e));
		return 2;
	}
	ids = xcalloc(res.nkvs + 1, sizeof(*ids));
	for (i = 0; i < res.nkvs; i++)
		if (model_handle_key_parse(res.kvs[i].key, id, sizeof(id)) == 0)
			ids[n++] = xstrdup(id);
	etcd_result_clean(&res);
	etcd_free(e);
	for (k = 0; k < clients; k++) {
		if ((pid = fork()) == -1)
			return 2;
		if (pid != 0)
			continue;
		e = drive_etcd();
		struct ipam *ip = ipam_new(e, "releaser");
		int rc = 0;

		for (i = k; i < n; i += clients)
			if (ipam_release_handle(ip, ids[i], err, sizeof(err)) ==
			    -1) {
				fprintf(
				    stderr, "release %s: %s\n", ids[i], err);
				rc = 1;
			}
		ipam_free(ip);
		etcd_free(e);
		_exit(rc);
	}
	while ((pid = wait(&status)) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	printf("released %zu handles\n", n);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return bad > 0;
}

/* ---- verify ---- */

struct vcount {
	char *handle;
	struct prefix cidr;
	uint32_t count;
	bool seen; /* a handle key counts it */
};

struct vhost {
	char *host;
	size_t blocks;
};

static struct vcount *
vcount_find(struct vcount *v, size_t n, const char *h, const struct prefix *c)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].handle, h) == 0 &&
		    prefix_cmp(&v[i].cidr, c) == 0)
			return &v[i];
	return NULL;
}

static int
verify(int argc, char **argv)
{
	struct etcd_result res;
	struct etcd *e;
	struct model_block *blocks = NULL;
	struct model_handle h;
	struct model_affinity af;
	struct vcount *counts = NULL, *vc;
	struct vhost hosts[256];
	struct prefix p;
	char host[256], id[IPAM_KEYLEN], err[MODEL_ERRLEN], c[PREFIX_STRLEN];
	const char *owner;
	size_t nblocks = 0, ncounts = 0, nallocs = 0, nhandles = 0, naffs = 0,
	       nhosts = 0, i, k;
	bool empty = false, settling = false;
	uint32_t o, *refs;
	json_t *j;
	int opt;

	optind = 0; /* GNU getopt: start afresh */
	while ((opt = getopt(argc, argv, "Es")) != -1)
		switch (opt) {
		case 'E':
			empty = true;
			break;
		case 's':
			settling = true;
			break;
		default:
			return 2;
		}
	e = drive_etcd();
	if (etcd_list(e, MODEL_IPAM_PREFIX, 0, &res) == -1) {
		fprintf(stderr, "ipam_drive: %s\n", etcd_error(e));
		return 2;
	}
	blocks = xcalloc(res.nkvs + 1, sizeof(*blocks));
	/* blocks first: the handles and affinities are checked against them */
	for (i = 0; i < res.nkvs; i++) {
		struct model_block *b = &blocks[nblocks];

		if (model_block_key_parse(res.kvs[i].key, &p) == -1)
			continue;
		j = json_loadb(res.kvs[i].value, res.kvs[i].value_len, 0, NULL);
		if (j == NULL ||
		    model_block_from_json(j, b, err, sizeof(err)) == -1) {
			problem("%s: %s", res.kvs[i].key,
			    j == NULL ? "not JSON" : err);
			json_decref(j);
			continue;
		}
		json_decref(j);
		if (prefix_cmp(&b->cidr, &p) != 0)
			problem("%s holds %s", res.kvs[i].key,
			    prefix_ntop(&b->cidr, c, sizeof(c)));
		nblocks++;
		refs = xcalloc(b->nattrs + 1, sizeof(*refs));
		for (o = 0; o < b->nords; o++) {
			const struct model_ipam_attr *a =
			    model_block_attr(b, o);

			if (a == NULL)
				continue;
			nallocs++;
			refs[b->allocations[o]]++;
			if (a->handle_id == NULL)
				continue;
			if ((vc = vcount_find(counts, ncounts, a->handle_id,
			         &b->cidr)) == NULL) {
				counts = xreallocarray(
				    counts, ncounts + 1, sizeof(*counts));
				vc = &counts[ncounts++];
				memset(vc, 0, sizeof(*vc));
				vc->handle = xstrdup(a->handle_id);
				vc->cidr = b->cidr;
			}
			vc->count++;
		}
		for (k = 0; k < b->nattrs; k++)
			if (refs[k] == 0)
				problem("block %s: attribute %zu is unused",
				    prefix_ntop(&b->cidr, c, sizeof(c)), k);
		free(refs);
		if (b->nunallocated + (b->nords - model_block_nfree(b)) !=
		    b->nords)
			problem("block %s: unallocated does not add up",
			    prefix_ntop(&b->cidr, c, sizeof(c)));
		if (model_block_empty(b) && b->affinity == NULL)
			problem("block %s: empty and affine to nobody, but "
			        "not deleted",
			    prefix_ntop(&b->cidr, c, sizeof(c)));
		if ((owner = model_block_host(b)) != NULL) {
			for (k = 0; k < nhosts; k++)
				if (strcmp(hosts[k].host, owner) == 0)
					break;
			if (k == nhosts && nhosts < 256) {
				hosts[nhosts].host = xstrdup(owner);
				hosts[nhosts++].blocks = 0;
			}
			if (k < 256)
				hosts[k].blocks++;
		}
	}
	for (i = 1; i < nblocks; i++)
		for (k = 0; k < i; k++)
			if (prefix_covers(&blocks[i].cidr, &blocks[k].cidr) ||
			    prefix_covers(&blocks[k].cidr, &blocks[i].cidr))
				problem("blocks %s and %s overlap",
				    prefix_ntop(&blocks[i].cidr, c, sizeof(c)),
				    prefix_ntop(
				        &blocks[k].cidr, host, sizeof(host)));
	for (i = 0; i < res.nkvs; i++) {
		const char *key = res.kvs[i].key;

		if (model_handle_key_parse(key, id, sizeof(id)) == 0) {
			nhandles++;
			j = json_loadb(
			    res.kvs[i].value, res.kvs[i].value_len, 0, NULL);
			if (j == NULL ||
			    model_handle_from_json(j, &h, err, sizeof(err)) ==
			        -1) {
				problem("%s: %s", key,
				    j == NULL ? "not JSON" : err);
				json_decref(j);
				continue;
			}
			json_decref(j);
			if (h.n == 0)
				problem("handle %s counts nothing", id);
			for (k = 0; k < h.n; k++) {
				vc = vcount_find(
				    counts, ncounts, id, &h.v[k].cidr);
				if (vc == NULL || vc->count != h.v[k].count)
					problem("handle %s counts %u in %s, "
					        "the block holds %u",
					    id, h.v[k].count,
					    prefix_ntop(
					        &h.v[k].cidr, c, sizeof(c)),
					    vc != NULL ? vc->count : 0);
				if (vc != NULL)
					vc->seen = true;
			}
			model_handle_clean(&h);
		} else if (model_affinity_key_parse(
		               key, host, sizeof(host), &p) == 0) {
			naffs++;
			j = json_loadb(
			    res.kvs[i].value, res.kvs[i].value_len, 0, NULL);
			if (j == NULL ||
			    model_affinity_from_json(
			        j, &af, err, sizeof(err)) == -1) {
				problem("%s: %s", key,
				    j == NULL ? "not JSON" : err);
				json_decref(j);
				continue;
			}
			json_decref(j);
			for (k = 0; k < nblocks; k++)
				if (prefix_cmp(&blocks[k].cidr, &p) == 0)
					break;
			if (af.state == MODEL_AFF_PENDING && settling) {
				/* mid-claim */
			} else if (af.state != MODEL_AFF_CONFIRMED)
				problem("%s is %s", key,
				    model_affinity_state_name(af.state));
			else if (k == nblocks)
				problem("%s: no such block", key);
			else if ((owner = model_block_host(&blocks[k])) ==
			        NULL ||
			    strcmp(owner, host) != 0)
				problem("%s: the block is %s's", key,
				    owner != NULL ? owner : "nobody");
			model_affinity_clean(&af);
		}
	}
	for (i = 0; i < ncounts; i++)
		if (!counts[i].seen)
			problem("block %s holds %u addresses of handle %s, "
			        "which does not count them",
			    prefix_ntop(&counts[i].cidr, c, sizeof(c)),
			    counts[i].count, counts[i].handle);
	/* a block affine to a host has its affinity key */
	for (i = 0; i < nblocks; i++) {
		char key[IPAM_KEYLEN];
		struct etcd_result one;

		if ((owner = model_block_host(&blocks[i])) == NULL ||
		    model_affinity_key(
		        owner, &blocks[i].cidr, key, sizeof(key)) == -1)
			continue;
		if (etcd_get(e, key, &one) == -1)
			return 2;
		if (one.nkvs == 0)
			problem("block %s is %s's, without its affinity key",
			    prefix_ntop(&blocks[i].cidr, c, sizeof(c)), owner);
		etcd_result_clean(&one);
	}
	if (empty && (nallocs > 0 || nhandles > 0))
		problem("%zu allocations and %zu handles are left", nallocs,
		    nhandles);
	printf("blocks %zu allocations %zu handles %zu affinities %zu\n",
	    nblocks, nallocs, nhandles, naffs);
	for (i = 0; i < nhosts; i++) {
		printf("host %s blocks %zu\n", hosts[i].host, hosts[i].blocks);
		free(hosts[i].host);
	}
	for (i = 0; i < nblocks; i++)
		model_block_clean(&blocks[i]);
	free(blocks);
	for (i = 0; i < ncounts; i++)
		free(counts[i].handle);
	free(counts);
	etcd_result_clean(&res);
	etcd_free(e);
	return problems > 0;
}

/* ---- single calls: remove-host, release-ip, handle ---- */

static int
single(int argc, char **argv)
{
	struct etcd *e;
	struct ipam *ip;
	struct addr a, *v = NULL;
	char err[IPAM_ERRLEN], s[ADDR_STRLEN];
	size_t i, n = 0;
	int rc = 2;

	if (argc != 2)
		return 2;
	e = drive_etcd();
	ip = ipam_new(e, "ipam_drive");
	if (strcmp(argv[0], "remove-host") == 0)
		rc = ipam_remove_host(ip, argv[1], err, sizeof(err));
	else if (strcmp(argv[0], "release-ip") == 0) {
		if (addr_parse(argv[1], &a) == -1)
			goto out;
		rc = ipam_release_ip(ip, &a, err, sizeof(err));
	} else if (strcmp(argv[0], "handle") == 0) {
		rc = ipam_handle_get(ip, argv[1], &v, &n, err, sizeof(err));
		for (i = 0; rc == 0 && i < n; i++)
			printf("%s\n", addr_ntop(&v[i], s, sizeof(s)));
		free(v);
	}
	if (rc != 0)
		printf("%s\n", err);
out:
	ipam_free(ip);
	etcd_free(e);
	return rc == -1 ? 1 : rc == 1 ? 3 : rc;
}

/* ---- walk ---- */

static int
walk(int argc, char **argv)
{
	struct ipam_walk w;
	struct prefix pool, b;
	char c[PREFIX_STRLEN];
	int i, n;

	if (argc < 4 || prefix_parse(argv[2], &pool) == -1)
		return 2;
	n = argc > 4 ? atoi(argv[4]) : 1;
	ipam_walk_init(&w, &pool, atoi(argv[3]), argv[1]);
	for (i = 0; i < n && ipam_walk_next(&w, &b); i++)
		printf("%s\n", prefix_ntop(&b, c, sizeof(c)));
	return 0;
}

int
main(int argc, char **argv)
{
	int opt;

	store_init();
	log_init("ipam_drive", LOG_LVL_WARN);
	while ((opt = getopt(argc, argv, "+e:")) != -1)
		switch (opt) {
		case 'e':
			endpoint = optarg;
			break;
		default:
			goto usage;
		}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		goto usage;
	if (strcmp(argv[0], "stress") == 0)
		return stress(argc, argv);
	if (strcmp(argv[0], "release") == 0)
		return release(argc, argv);
	if (strcmp(argv[0], "verify") == 0)
		return verify(argc, argv);
	if (strcmp(argv[0], "walk") == 0)
		return walk(argc, argv);
	if (strcmp(argv[0], "remove-host") == 0 ||
	    strcmp(argv[0], "release-ip") == 0 ||
	    strcmp(argv[0], "handle") == 0)
		return single(argc, argv);
usage:
	fprintf(stderr,
	    "usage: ipam_drive [-e URL] stress|release|verify|"
	    "walk ...\n");
	return 2;
}
