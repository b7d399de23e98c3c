/*
 * libFuzzer target: podmesh-node's environment (node/startup.c's
 * startup_config_parse: IP, IP6, IP_AUTODETECTION_METHOD and the other
 * calico/node variables, CALICO_IPV4POOL_* and the rest) and the
 * autodetection methods it parses (node/autodetect.c, Go regular
 * expressions translated for regcomp).
 *
 * The input is an environment, one NAME=value per line.  A refusal must be
 * one line that starts with the name of a variable and ": "; an accepted
 * environment must give values inside their documented ranges, and its
 * methods must run over a fixed interface list without failing in any way
 * but a message.  The whole input is also tried as one method.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "node/node.h"
#include "store/model.h"
#include "store/store.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAXVARS 64

struct fuzz_env {
	char *name[FUZZ_MAXVARS];
	char *value[FUZZ_MAXVARS];
	size_t n;
};

static const char *
fuzz_getenv(void *arg, const char *name)
{
	const struct fuzz_env *e = arg;
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->name[i], name) == 0)
			return e->value[i];
	return NULL;
}

/* a message names its variable: "NAME: ..." on one line */
static void
fuzz_check_error(const char *err)
{
	const char *p = err;

	while (
	    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')
		p++;
	if (p == err || p[0] != ':' || p[1] != ' ' || strchr(err, '\n'))
		__builtin_trap();
}

static void
fuzz_iflist(struct autodetect_iflist *l)
{
	static const char *const lo[] = {"127.0.0.1/8", "::1/128"};
	static const char *const eth0[] = {
	    "192.0.2.10/24", "fe80::1/64", "2001:db8::10/64"};
	static const char *const eth1[] = {"198.51.100.10/24"};
	static const char *const dock[] = {"172.17.0.1/16"};

	memset(l, 0, sizeof(*l));
	autodetect_iflist_add(l, 1, "lo", lo, 2);
	autodetect_iflist_add(l, 2, "eth0", eth0, 3);
	autodetect_iflist_add(l, 3, "eth1", eth1, 1);
	autodetect_iflist_add(l, 4, "docker0", dock, 1);
}

static void
fuzz_run_method(const struct autodetect *ad, const struct autodetect_iflist *l)
{
	struct autodetect_result res;
	char err[NODE_ERRLEN];
	int family;

	for (family = AF_INET; family != 0;
	     family = family == AF_INET ? AF_INET6 : 0) {
		err[0] = '\0';
		if (autodetect_select(
		        ad, family, l, NULL, &res, err, sizeof(err)) == 0) {
			if (res.prefix.a.family != family ||
			    !autodetect_global_unicast(&res.prefix.a) ||
			    res.ifindex < 1 || res.ifindex > 4)
				__builtin_trap();
		} else
			fuzz_check_error(err);
	}
}

static void
fuzz_check_pool(const struct startup_pool *p, int family)
{
	if (family == AF_INET &&
	    (p->block_size < 20 || p->block_size > 32 ||
	        (p->enabled && p->cidr.a.family != AF_INET)))
		__builtin_trap();
	if (family == AF_INET6 &&
	    (p->block_size < 116 || p->block_size > 128 ||
	        (p->enabled && p->cidr.a.family != AF_INET6) ||
	        p->vxlan != MODEL_ENCAP_NEVER || p->ipip != MODEL_ENCAP_NEVER))
		__builtin_trap();
	if (p->enabled &&
	    (prefix_has_hostbits(&p->cidr) || p->block_size < p->cidr.len))
		__builtin_trap();
	if (p->ipip != MODEL_ENCAP_NEVER && p->vxlan != MODEL_ENCAP_NEVER)
		__builtin_trap();
}

static void
fuzz_check_config(const struct startup_config *c)
{
	const struct startup_ip *ips[2] = {&c->ip4, &c->ip6};
	size_t i;

	for (i = 0; i < 2; i++) {
		if (ips[i]->method == NULL)
			__builtin_trap();
		if (ips[i]->mode == STARTUP_IP_GIVEN &&
		    ips[i]->given.a.family != (i == 0 ? AF_INET : AF_INET6))
			__builtin_trap();
	}
	if (c->nodename != NULL && !model_name_valid(c->nodename))
		__builtin_trap();
	if (c->hostname != NULL && !model_name_valid(c->hostname))
		__builtin_trap();
	if (c->asn_given && c->asn == 0)
		__builtin_trap();
	if (c->ipip_mtu < 68 || c->ipip_mtu > 65535 ||
	    (c->vxlan_mtu != 0 && (c->vxlan_mtu < 68 || c->vxlan_mtu > 65535)))
		__builtin_trap();
	if (c->vxlan_vni == 0 || c->vxlan_vni >= 1u << 24 || c->vxlan_port == 0)
		__builtin_trap();
	if (c->etcd_timeout_ms < 0 || c->etcd_timeout_ms > 86400 * 1000)
		__builtin_trap();
	if ((c->etcd_cert == NULL) != (c->etcd_key == NULL))
		__builtin_trap();
	if (c->no_default_pools && (c->pool4.cidr_given || c->pool6.cidr_given))
		__builtin_trap();
	fuzz_check_pool(&c->pool4, AF_INET);
	fuzz_check_pool(&c->pool6, AF_INET6);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("autodetect_fuzz", LOG_LVL_ERROR);
	store_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_env env = {.n = 0};
	struct startup_config c;
	struct autodetect_iflist l;
	struct autodetect *ad;
	char *text, *line, *next, *eq, err[NODE_ERRLEN];

	if (size > 8192)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		__builtin_trap();
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_iflist(&l);

	/* the whole input as one method */
	err[0] = '\0';
	if (strchr(text, '\n') == NULL) {
		if ((ad = autodetect_parse("IP_AUTODETECTION_METHOD", text, err,
		         sizeof(err))) == NULL)
			fuzz_check_error(err);
		else {
			fuzz_run_method(ad, &l);
			autodetect_free(ad);
		}
	}

	/* as an environment */
	for (line = text; line != NULL && env.n < FUZZ_MAXVARS; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		env.name[env.n] = line;
		env.value[env.n] = eq + 1;
		env.n++;
	}
	err[0] = '\0';
	if (startup_config_parse(&c, fuzz_getenv, &env, err, sizeof(err)) == -1)
		fuzz_check_error(err);
	else {
		fuzz_check_config(&c);
		fuzz_run_method(c.ip4.method, &l);
		fuzz_run_method(c.ip6.method, &l);
		startup_config_clean(&c);
	}
	autodetect_iflist_clean(&l);
	free(text);
	return 0;
}
