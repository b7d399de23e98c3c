/*
 * ksync: the kernel-sync benchmark's podmesh side (bench/ksync.sh runs it
 * inside a fresh network namespace).  Through bgp/kernel.c and a real
 * libevent loop, exactly as podmesh-bgpd uses it: installs N routes (/32s
 * from 198.18.0.0/15, or /26s from 10.0.0.0/8) via one gateway on one
 * device, timed from the first kernel_update until the flush has every
 * answer; then a restart (kernel_new adopting them all, each learned again
 * in the same form, which must send nothing); then withdraws them all.
 * The kernel's own count is checked after each phase (not timed).
 *
 * Prints one line per phase, key=value, for ksync.sh:
 *	install routes=100000 seconds=0.412 requests=100000 kernel=100000
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/nl.h"
#include "bgp/kernel.h"

struct ksync {
	struct event_base *base;
	struct nl *probe;
	struct prefix *pfx;
	size_t n;
	struct addr gw;
	unsigned int ifindex;
	uint8_t protocol;
};

static enum kernel_shape
ksync_shape(void *arg, const struct prefix *p, const struct addr *nh,
    struct kernel_nh *out)
{
	struct ksync *ks = arg;

	if (nh == NULL)
		return KERNEL_SKIP;
	out->gw = *nh;
	out->ifindex = ks->ifindex;
	return KERNEL_UNICAST;
}

static double
ksync_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
ksync_count_cb(const struct nl_route *r, void *arg)
{
	(*(size_t *)arg)++;
	return MNL_CB_OK;
}

static size_t
ksync_kernel_count(struct ksync *ks)
{
	char err[256];
	size_t n = 0;

	if (nl_route_dump(ks->probe, AF_INET, ks->protocol, KERNEL_TABLE_MAIN,
	        ksync_count_cb, &n, err, sizeof(err)) == -1)
		fatalx("dump: %s", err);
	return n;
}

/* runs the loop until nothing is queued */
static void
ksync_drain(struct ksync *ks, struct kernel *k)
{
	struct kernel_stats st;

	do {
		event_base_loop(ks->base, EVLOOP_NONBLOCK);
		kernel_stats_get(k, &st);
	} while (st.queued > 0);
}

static struct kernel *
ksync_kernel(struct ksync *ks)
{
	struct kernel_config kc = {
	    .enabled = true, .protocol = ks->protocol, .table = 254};
	struct kernel *k;
	char err[256];

	if ((k = kernel_new(ks->base, &kc, err, sizeof(err))) == NULL)
		fatalx("kernel_new: %s", err);
	kernel_set_shaper(k, ksync_shape, ks);
	return k;
}

static void
ksync_report(struct ksync *ks, const char *phase, double secs, struct kernel *k,
    uint64_t req0)
{
	struct kernel_stats st;

	kernel_stats_get(k, &st);
	printf("%s routes=%zu seconds=%.3f requests=%llu failures=%llu "
	       "adopted=%zu kernel=%zu\n",
	    phase, ks->n, secs, (unsigned long long)(st.requests - req0),
	    (unsigned long long)st.failures, st.adopted,
	    ksync_kernel_count(ks));
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"routes", required_argument, NULL, 'n'},
	    {"len", required_argument, NULL, 'l'},
	    {"gw", required_argument, NULL, 'g'},
	    {"dev", required_argument, NULL, 'd'},
	    {"protocol", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	struct ksync ks;
	struct kernel *k;
	struct kernel_stats st;
	const char *gw = "192.0.2.2", *dev = "veth0";
	char err[256];
	double t0;
	size_t i;
	int c, len = 32;
	uint32_t base;

	memset(&ks, 0, sizeof(ks));
	ks.n = 100000;
	ks.protocol = KERNEL_RTPROT_DEFAULT;
	log_init("ksync", LOG_LVL_WARN);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ks.n = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			len = atoi(optarg);
			break;
		case 'g':
			gw = optarg;
			break;
		case 'd':
			dev = optarg;
			break;
		case 'p':
			ks.protocol = (uint8_t)atoi(optarg);
			break;
		default:
			fprintf(stderr,
			    "usage: ksync [--routes N] [--len 32|26] "
			    "[--gw ADDR] [--dev IF] [--protocol P]\n");
			return 2;
		}
	}
	if ((len != 32 && len != 26) || ks.n == 0 ||
	    (len == 32 && ks.n > 131072) || (len == 26 && ks.n > 262144))
		fatalx("--len 32 takes up to 131072 routes, --len 26 262144");
	if (addr_parse(gw, &ks.gw) == -1 || ks.gw.family != AF_INET)
		fatalx("bad gateway %s", gw);
	if ((ks.ifindex = if_nametoindex(dev)) == 0)
		fatalx("no device %s", dev);
	if ((ks.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((ks.probe = nl_open(0, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	ks.pfx = calloc(ks.n, sizeof(*ks.pfx));
	base = len == 32 ? 0xc6120000 : 0x0a000000;
	for (i = 0; i < ks.n; i++) {
		ks.pfx[i].len = (uint8_t)len;
		addr_from_v4(
		    &ks.pfx[i].a, base + (uint32_t)(len == 32 ? i : i << 6));
	}

	/* install */
	k = ksync_kernel(&ks);
	t0 = ksync_now();
	for (i = 0; i < ks.n; i++)
		kernel_update(k, &ks.pfx[i], &ks.gw, 1, false);
	ksync_drain(&ks, k);
	ksync_report(&ks, "install", ksync_now() - t0, k, 0);
	kernel_free(k);

	/* restart: adopt, learn again unchanged, sync: nothing sent */
	t0 = ksync_now();
	k = ksync_kernel(&ks);
	for (i = 0; i < ks.n; i++)
		kernel_update(k, &ks.pfx[i], &ks.gw, 1, false);
	kernel_synced(k);
	ksync_drain(&ks, k);
	ksync_report(&ks, "restart", ksync_now() - t0, k, 0);

	/* withdraw */
	kernel_stats_get(k, &st);
	t0 = ksync_now();
	for (i = 0; i < ks.n; i++)
		kernel_update(k, &ks.pfx[i], NULL, 0, false);
	ksync_drain(&ks, k);
	ksync_report(&ks, "withdraw", ksync_now() - t0, k, st.requests);
	kernel_free(k);

	nl_close(ks.probe);
	event_base_free(ks.base);
	free(ks.pfx);
	return 0;
}
