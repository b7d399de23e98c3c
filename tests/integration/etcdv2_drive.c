/*
 * etcdv2_drive: drives store/etcdv2.h against a real etcd (--enable-v2) for
 * t_etcdv2.sh.  Each command does one thing and prints what the script
 * checks.  Errors print "error: MSG" on stderr and exit 1.
 *
 *   etcdv2_drive [-e ENDPOINTS] [-C CA] [-c CERT] [-k KEY] [-u USER]
 *                [-p PASSWORD] COMMAND ARGS
 *   set KEY VALUE [COND..]  COND: prevIndex=N prevValue=V ttl=N
 *                           prevExist=true|false; prints
 *                           "ACTION KEY mod=N index=N prev=N|-"
 *   mkdir KEY               the same, for a directory
 *   get KEY                 "VALUE mod=N index=N via=URL" or "(none) ..."
 *   list DIR                "KEY=VALUE mod=N" or "KEY/ mod=N" per node,
 *                           then "n=N found=F index=N"; checks the order
 *   del KEY [recursive|dir] [prevIndex=N]   "ACTION KEY mod=N"
 *   watch KEY INDEX [MS]    one event "ACTION KEY=VALUE mod=N", or
 *                           "(timeout)" after MS milliseconds
 *   fill KEY N              N sets of KEY (values 1..N); "index=N"
 *   sync PREFIX FROM N [POLL_MS]
 *                           etcdv2_sync until N events (polls of POLL_MS,
 *                           default 20000); prints
 *                           "LIST relist=R n=N next=X" for each listing,
 *                           "EVENT ACTION KEY=VALUE next=X" for each event,
 *                           and at the end the copy of the tree it kept:
 *                           "FINAL n=N" and "  KEY=VALUE mod=N" lines
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "store/etcdv2.h"
#include "store/store.h"

struct copy {
	struct etcdv2_node *v; /* keys, no directories, sorted */
	size_t n;
	long want, got;
};

static void __attribute__((noreturn)) die(struct etcdv2 *e)
{
	fprintf(stderr, "error: %s\n", etcdv2_error(e));
	exit(1);
}

static int64_t
num(const char *s)
{
	char *ep;
	long long v = strtoll(s, &ep, 10);

	if (*s == '\0' || *ep != '\0') {
		fprintf(stderr, "error: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static void
conds(int argc, char **argv, struct etcdv2_opts *o)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "prevIndex=", 10) == 0)
			o->prev_index = num(argv[i] + 10);
		else if (strncmp(argv[i], "prevValue=", 10) == 0)
			o->prev_value = argv[i] + 10;
		else if (strcmp(argv[i], "prevExist=true") == 0)
			o->prev_exist = ETCDV2_PREV_EXISTS;
		else if (strcmp(argv[i], "prevExist=false") == 0)
			o->prev_exist = ETCDV2_PREV_ABSENT;
		else if (strncmp(argv[i], "ttl=", 4) == 0)
			o->ttl = num(argv[i] + 4);
		else if (strcmp(argv[i], "recursive") == 0)
			o->recursive = 1;
		else if (strcmp(argv[i], "dir") == 0)
			o->dir = 1;
		else {
			fprintf(
			    stderr, "error: unknown condition %s\n", argv[i]);
			exit(2);
		}
	}
}

static const char *
action_name(enum etcdv2_action a)
{
	static const char *const names[] = {
	    [ETCDV2_ACT_OTHER] = "other",
	    [ETCDV2_ACT_GET] = "get",
	    [ETCDV2_ACT_SET] = "set",
	    [ETCDV2_ACT_CREATE] = "create",
	    [ETCDV2_ACT_UPDATE] = "update",
	    [ETCDV2_ACT_DELETE] = "delete",
	    [ETCDV2_ACT_EXPIRE] = "expire",
	    [ETCDV2_ACT_CAS] = "compareAndSwap",
	    [ETCDV2_ACT_CAD] = "compareAndDelete",
	};

	return names[a];
}

static void
print_write(const struct etcdv2_result *r)
{
	printf("%s %s mod=%" PRId64 " index=%" PRId64, action_name(r->action),
	    r->node.key, r->node.modified_index, r->index);
	if (r->prev.key != NULL)
		printf(" prev=%" PRId64 "\n", r->prev.modified_index);
	else
		printf(" prev=-\n");
}

static void
print_node(const char *indent, const struct etcdv2_node *n)
{
	if (n->dir)
		printf("%s%s/ mod=%" PRId64 "\n", indent, n->key,
		    n->modified_index);
	else
		printf("%s%s=%s mod=%" PRId64 "\n", indent, n->key, n->value,
		    n->modified_index);
}

static void
check_sorted(const struct etcdv2_result *r)
{
	size_t i;

	for (i = 1; i < r->nnodes; i++)
		if (strcmp(r->nodes[i - 1].key, r->nodes[i].key) >= 0) {
			fprintf(stderr, "error: listing out of order at %s\n",
			    r->nodes[i].key);
			exit(1);
		}
	for (i = 0; i < r->nnodes; i++)
		if (r->nodes[i].modified_index > r->index) {
			fprintf(stderr, "error: %s modified after the index\n",
			    r->nodes[i].key);
			exit(1);
		}
}

/* The copy: a listing replaces it, events edit it. */
static void
copy_clear(struct copy *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		etcdv2_node_clean(&c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static void
copy_remove(struct copy *c, const char *key, int dir)
{
	size_t i, j, kl = strlen(key);

	for (i = j = 0; i < c->n; i++) {
		if (strcmp(c->v[i].key, key) == 0 ||
		    (dir && strncmp(c->v[i].key, key, kl) == 0 &&
		        c->v[i].key[kl] == '/'))
			etcdv2_node_clean(&c->v[i]);
		else
			c->v[j++] = c->v[i];
	}
	c->n = j;
}

static int
node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct etcdv2_node *)a)->key,
	    ((const struct etcdv2_node *)b)->key);
}

static int
sync_cb(struct etcdv2_sync_update *u, void *arg)
{
	struct copy *c = arg;
	struct etcdv2_node *n;
	size_t i;

	switch (u->kind) {
	case ETCDV2_SYNC_LIST:
		check_sorted(u->res);
		printf("LIST relist=%d n=%zu next=%" PRId64 "\n", u->relist,
		    u->res->nnodes, u->next_index);
		copy_clear(c);
		for (i = 0; i < u->res->nnodes; i++) {
			n = &u->res->nodes[i];
			if (n->dir)
				continue;
			c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
			c->v[c->n++] = *n;
			memset(n, 0, sizeof(*n)); /* moved out */
		}
		break;
	case ETCDV2_SYNC_EVENT:
		n = &u->res->node;
		printf("EVENT %s %s=%s next=%" PRId64 "\n",
		    action_name(u->res->action), n->key, n->value,
		    u->next_index);
		copy_remove(c, n->key, n->dir);
		if (!n->dir && u->res->action != ETCDV2_ACT_DELETE &&
		    u->res->action != ETCDV2_ACT_EXPIRE &&
		    u->res->action != ETCDV2_ACT_CAD) {
			c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
			c->v[c->n++] = *n;
			memset(n, 0, sizeof(*n));
			qsort(c->v, c->n, sizeof(*c->v), node_cmp);
		}
		c->got++;
		break;
	case ETCDV2_SYNC_IDLE:
		printf("IDLE next=%" PRId64 "\n", u->next_index);
		break;
	}
	fflush(stdout);
	return c->got >= c->want;
}

int
main(int argc, char **argv)
{
	struct etcd_config cfg = {0};
	struct etcdv2_opts o = {0};
	struct etcdv2_error err;
	struct etcdv2_result r;
	struct etcdv2 *e;
	struct copy c = {0};
	const char *cmd;
	char val[32];
	size_t i;
	int ch, rc;
	int64_t n;

	store_init();

	while ((ch = getopt(argc, argv, "e:C:c:k:u:p:")) != -1) {
		switch (ch) {
		case 'e':
			cfg.endpoints = optarg;
			break;
		case 'C':
			cfg.ca_file = optarg;
			break;
		case 'c':
			cfg.cert_file = optarg;
			break;
		case 'k':
			cfg.key_file = optarg;
			break;
		case 'u':
			cfg.username = optarg;
			break;
		case 'p':
			cfg.password = optarg;
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2) {
		fprintf(stderr, "usage: etcdv2_drive [options] COMMAND KEY\n");
		return 2;
	}
	cfg.timeout_ms = 10000;
	if ((e = etcdv2_new(&cfg, &err)) == NULL) {
		fprintf(stderr, "error: %s\n", err.msg);
		return 1;
	}
	cmd = argv[0];
	if (strcmp(cmd, "set") == 0 && argc >= 3) {
		conds(argc - 3, argv + 3, &o);
		if (etcdv2_set(e, argv[1], argv[2], &o, &r) == -1)
			die(e);
		print_write(&r);
	} else if (strcmp(cmd, "mkdir") == 0) {
		o.dir = 1;
		if (etcdv2_set(e, argv[1], NULL, &o, &r) == -1)
			die(e);
		print_write(&r);
	} else if (strcmp(cmd, "get") == 0) {
		if (etcdv2_get(e, argv[1], &r) == -1)
			die(e);
		printf("%s mod=%" PRId64 " index=%" PRId64 " via=%s\n",
		    r.found ? r.node.value : "(none)", r.node.modified_index,
		    r.index, etcdv2_endpoint(e));
	} else if (strcmp(cmd, "list") == 0) {
		if (etcdv2_list(e, argv[1], &r) == -1)
			die(e);
		check_sorted(&r);
		for (i = 0; i < r.nnodes; i++)
			print_node("", &r.nodes[i]);
		printf("n=%zu found=%d index=%" PRId64 "\n", r.nnodes, r.found,
		    r.index);
	} else if (strcmp(cmd, "del") == 0) {
		conds(argc - 2, argv + 2, &o);
		if (etcdv2_delete(e, argv[1], &o, &r) == -1)
			die(e);
		print_write(&r);
	} else if (strcmp(cmd, "watch") == 0 && argc >= 3) {
		rc = etcdv2_watch(e, argv[1], num(argv[2]), 1,
		    argc > 3 ? (int)num(argv[3]) : 0, &r);
		if (rc == -1)
			die(e);
		if (rc == 1)
			printf("(timeout)\n");
		else
			printf("%s %s=%s mod=%" PRId64 "\n",
			    action_name(r.action), r.node.key, r.node.value,
			    r.node.modified_index);
	} else if (strcmp(cmd, "fill") == 0 && argc >= 3) {
		memset(&r, 0, sizeof(r));
		for (n = 1; n <= num(argv[2]); n++) {
			etcdv2_result_clean(&r);
			snprintf(val, sizeof(val), "%" PRId64, n);
			if (etcdv2_set(e, argv[1], val, NULL, &r) == -1)
				die(e);
		}
		printf("index=%" PRId64 "\n", r.index);
	} else if (strcmp(cmd, "sync") == 0 && argc >= 4) {
		c.want = num(argv[3]);
		if (etcdv2_sync(e, argv[1], num(argv[2]),
		        argc > 4 ? (int)num(argv[4]) : 20000, sync_cb,
		        &c) == -1)
			die(e);
		printf("FINAL n=%zu\n", c.n);
		for (i = 0; i < c.n; i++)
			print_node("  ", &c.v[i]);
		copy_clear(&c);
		etcdv2_free(e);
		return 0;
	} else {
		fprintf(stderr, "error: unknown command %s\n", cmd);
		return 2;
	}
	etcdv2_result_clean(&r);
	etcdv2_free(e);
	return 0;
}
