/*
 * wcache_drive: a watch cache (store/wcache.h) on a real etcd, for
 * t_wcache.sh.  It caches the prefixes given, prints every callback as one
 * JSON object per line on stdout, and on SIGUSR1 prints the whole cache;
 * SIGTERM prints it too and exits.  The script replays the callbacks and
 * compares them, and the cache, with etcdctl's view.
 *
 *   wcache_drive [-e ENDPOINTS] [-P PAGE] [-r RELIST_MS] [-i IDLE_MS] [-v]
 *                PREFIX...
 *
 *   {"ev":"ADD","key":K,"new":V,"mod":M,"rev":R,"relist":false}
 *   {"ev":"UPDATE","key":K,"old":V0,"new":V,"mod":M,"rev":R,"relist":..}
 *   {"ev":"DELETE","key":K,"old":V0,"rev":R,"relist":..}
 *   {"ev":"SYNCED","rev":R,"n":N,"relist":..}
 *   {"ev":"DUMP","rev":R,"n":N,"synced":..} {"ev":"KEY","key":K,
 *     "value":V,"mod":M} ... {"ev":"END"}
 *   {"ev":"STATS","applied":..,"stale":..,"foreign":..,"lists":..,..}
 *
 * Every prefix gets a decode hook that refuses values starting with "bad"
 * (the event then carries "refused": MESSAGE) and otherwise keeps a copy
 * of the value; on every event and in every dump the driver checks that
 * copy against the bytes, the entry's prefix (the longest registered), the
 * lookup of its key, and that watch events never go back in revision; any
 * mismatch is printed on stderr and makes the exit status 1.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "lib/log.h"
#include "store/wcache.h"
#include "store/store.h"

struct drive {
	struct event_base *base;
	struct wcache *wc;
	int64_t last_rev; /* of the last watch event: never goes back */
	char **prefixes;
	int nprefixes;
	int bad;
};

static void *
decode(const char *key, const char *value, size_t len, char *err, size_t errlen,
    void *arg)
{
	if (strncmp(value, "bad", 3) == 0) {
		snprintf(err, errlen, "value starts with \"bad\"");
		return NULL;
	}
	return strdup(value);
}

static void
print(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s == NULL) {
		fprintf(stderr, "json_dumps failed\n");
		exit(1);
	}
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

static json_t *
bytes(const char *p, size_t n)
{
	json_t *j = json_stringn(p, n);

	return j != NULL ? j : json_string("(not utf-8)");
}

/*
 * The decoded copy must be the value, or absent with a message; the prefix
 * the longest registered one.
 */
static void
check_entry(struct drive *d, const struct wcache_entry *e)
{
	int refused = strncmp(e->value, "bad", 3) == 0, i;
	const char *best = NULL;

	for (i = 0; i < d->nprefixes; i++)
		if (strncmp(e->key, d->prefixes[i], strlen(d->prefixes[i])) ==
		        0 &&
		    (best == NULL || strlen(d->prefixes[i]) > strlen(best)))
			best = d->prefixes[i];
	if (best == NULL || strcmp(best, e->prefix) != 0) {
		fprintf(stderr, "entry %s: under %s, not %s\n", e->key,
		    e->prefix, best != NULL ? best : "(none)");
		d->bad = 1;
	}

	if (refused ? (e->obj != NULL || e->error == NULL)
	            : (e->obj == NULL || strcmp(e->obj, e->value) != 0 ||
	                  e->error != NULL)) {
		fprintf(stderr, "entry %s: object does not match\n", e->key);
		d->bad = 1;
	}
}

static void
changed(struct wcache *wc, const struct wcache_event *ev, void *arg)
{
	static const char *names[] = {
	    [WCACHE_ADD] = "ADD",
	    [WCACHE_UPDATE] = "UPDATE",
	    [WCACHE_DELETE] = "DELETE",
	    [WCACHE_SYNCED] = "SYNCED",
	};
	struct drive *d = arg;
	const struct wcache_entry *k = ev->new != NULL ? ev->new : ev->old;
	json_t *o = json_object();

	json_object_set_new(o, "ev", json_string(names[ev->type]));
	if (k != NULL)
		json_object_set_new(o, "key", bytes(k->key, k->key_len));
	if (ev->old != NULL) {
		json_object_set_new(
		    o, "old", bytes(ev->old->value, ev->old->value_len));
		check_entry(d, ev->old);
	}
	if (ev->new != NULL) {
		json_object_set_new(
		    o, "new", bytes(ev->new->value, ev->new->value_len));
		json_object_set_new(
		    o, "mod", json_integer(ev->new->mod_revision));
		if (ev->new->error != NULL)
			json_object_set_new(
			    o, "refused", json_string(ev->new->error));
		check_entry(d, ev->new);
	}
	json_object_set_new(o, "rev", json_integer(ev->revision));
	if (ev->type == WCACHE_SYNCED)
		json_object_set_new(
		    o, "n", json_integer(wcache_count(wc, NULL)));
	json_object_set_new(o, "relist", json_boolean(ev->relist));
	print(o);
	if (ev->revision != wcache_revision(wc)) {
		fprintf(stderr, "event at %lld, cache at %lld\n",
		    (long long)ev->revision, (long long)wcache_revision(wc));
		d->bad = 1;
	}
	if (!ev->relist && ev->type != WCACHE_SYNCED) {
		if (ev->revision < d->last_rev) {
			fprintf(stderr, "event at %lld after one at %lld\n",
			    (long long)ev->revision, (long long)d->last_rev);
			d->bad = 1;
		}
		d->last_rev = ev->revision;
	}
}

static void
dump(struct drive *d)
{
	struct wcache_iter it;
	const struct wcache_entry *e;
	json_t *o;

	print(json_pack("{s:s, s:I, s:I, s:b}", "ev", "DUMP", "rev",
	    (json_int_t)wcache_revision(d->wc), "n",
	    (json_int_t)wcache_count(d->wc, NULL), "synced",
	    wcache_synced(d->wc)));
	for (e = wcache_first(d->wc, &it, NULL); e != NULL;
	     e = wcache_next(&it)) {
		check_entry(d, e);
		if (wcache_get(d->wc, e->key) != e) {
			fprintf(stderr, "lookup of %s fails\n", e->key);
			d->bad = 1;
		}
		o = json_object();
		json_object_set_new(o, "ev", json_string("KEY"));
		json_object_set_new(o, "key", bytes(e->key, e->key_len));
		json_object_set_new(o, "value", bytes(e->value, e->value_len));
		json_object_set_new(o, "mod", json_integer(e->mod_revision));
		print(o);
	}
	print(json_pack("{s:s}", "ev", "END"));
	fflush(stdout);
}

static void
on_usr1(evutil_socket_t sig, short what, void *arg)
{
	dump(arg);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct drive *d = arg;

	dump(d);
	event_base_loopbreak(d->base);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: wcache_drive [-v] [-e endpoints] [-P page] "
	    "[-r relist-ms] [-i idle-ms] prefix...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct etcd_config cfg = {0};
	struct etcd_error err;
	struct wcache_stats st;
	struct drive d = {0};
	struct event *usr1, *term, *intr;
	struct etcd *e;
	int ch, i, page = 0, relist = -1, idle = -1;
	enum log_level lvl = LOG_LVL_WARN;

	store_init();

	while ((ch = getopt(argc, argv, "e:P:r:i:v")) != -1) {
		switch (ch) {
		case 'i':
			idle = atoi(optarg);
			break;
		case 'e':
			cfg.endpoints = optarg;
			break;
		case 'P':
			page = atoi(optarg);
			break;
		case 'r':
			relist = atoi(optarg);
			break;
		case 'v':
			lvl = LOG_LVL_INFO;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	log_init("wcache_drive", lvl);
	setvbuf(stdout, NULL, _IOLBF, 0);
	d.base = event_base_new();
	cfg.base = d.base;
	if ((e = etcd_new(&cfg, &err)) == NULL) {
		fprintf(stderr, "error: %s\n", err.msg);
		return 1;
	}
	d.wc = wcache_new(e, d.base);
	d.prefixes = argv;
	d.nprefixes = argc;
	for (i = 0; i < argc; i++)
		if (wcache_watch_prefix(d.wc, argv[i], decode, NULL, NULL) ==
		    -1)
			usage();
	wcache_set_callback(d.wc, changed, &d);
	if (page > 0)
		wcache_set_page_size(d.wc, page);
	if (relist >= 0)
		wcache_set_relist_after(d.wc, relist);
	if (idle >= 0)
		wcache_set_watch_idle(d.wc, idle);
	usr1 = evsignal_new(d.base, SIGUSR1, on_usr1, &d);
	term = evsignal_new(d.base, SIGTERM, on_term, &d);
	intr = evsignal_new(d.base, SIGINT, on_term, &d);
	evsignal_add(usr1, NULL);
	evsignal_add(term, NULL);
	evsignal_add(intr, NULL);
	wcache_start(d.wc);
	event_base_dispatch(d.base);

	wcache_stats(d.wc, &st);
	print(json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "ev",
	    "STATS", "keys", (json_int_t)st.keys, "applied",
	    (json_int_t)st.applied, "stale", (json_int_t)st.stale, "foreign",
	    (json_int_t)st.foreign, "lists", (json_int_t)st.lists,
	    "list_errors", (json_int_t)st.list_errors, "refused",
	    (json_int_t)st.refused));
	wcache_free(d.wc);
	etcd_free(e);
	event_free(usr1);
	event_free(term);
	event_free(intr);
	event_base_free(d.base);
	if (d.bad)
		fprintf(stderr, "wcache_drive: inconsistencies, see above\n");
	return d.bad ? 1 : 0;
}
