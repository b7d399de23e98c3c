/*
 * IP autodetection as calico/node does it (calico.md §6; Calico's
 * node/pkg/lifecycle/startup/autodetection): the methods first-found,
 * interface=, skip-interface=, can-reach= and cidr= over a list of
 * interfaces and their addresses.
 *
 * Everything but autodetect_reach (a UDP connect) and autodetect_iflist_load
 * (netlink) is a pure function of its arguments, so the unit tests run the
 * methods over made-up lists.  Calico's regular expressions are Go's, matched
 * unanchored (regexp.MatchString); they are translated here into POSIX
 * extended ones for regcomp, and what cannot be translated is refused with a
 * message rather than matched differently.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/nl_link.h"
#include "lib/xmalloc.h"
#include "node/node.h"
#include "store/model.h"

/*
 * Calico's DEFAULT_INTERFACES_TO_EXCLUDE (autodetection_linux.go), anchored
 * at the start as current Calico has them: interfaces of the container
 * runtimes, of Calico itself and of other CNIs never carry the node's
 * address.
 */
static const char *const autodetect_default_skip[] = {
    "^docker.*",
    "^cbr.*",
    "^dummy.*",
    "^virbr.*",
    "^lxcbr.*",
    "^veth.*",
    "^lo",
    "^cali.*",
    "^tunl.*",
    "^flannel.*",
    "^kube-ipvs.*",
    "^cni.*",
    "^vxlan\\.calico.*",
    "^vxlan-v6\\.calico.*",
    "^wireguard\\.cali.*",
    "^wg-v6\\.cali.*",
    "^nodelocaldns.*",
};
#define NSKIP (sizeof(autodetect_default_skip) / sizeof(char *))

#define AUTODETECT_RE_MAX 1024 /* bytes of one translated expression */

struct autodetect_re {
	regex_t re;
	char *src; /* as the user wrote it */
};

struct autodetect {
	enum autodetect_kind kind;
	char *var; /* IP_AUTODETECTION_METHOD, for messages */
	char *text;
	struct autodetect_re *re; /* interface= or skip-interface= */
	size_t nre;
	struct autodetect_re *skip; /* the default list, when it applies */
	size_t nskip;
	struct prefix *cidrs;
	size_t ncidrs;
	char *dest; /* can-reach */
};

/* ---- Go regular expressions as POSIX extended ones ---- */

struct autodetect_buf {
	char *s;
	size_t len, cap;
	bool overflow;
};

static void
autodetect_put(struct autodetect_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->overflow = true;
		return;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

static void
autodetect_putc(struct autodetect_buf *b, char c)
{
	char s[2] = {c, '\0'};

	autodetect_put(b, s);
}

/* characters that stay special after a backslash in a POSIX ERE */
static bool
autodetect_ere_special(char c)
{
	return c != '\0' && strchr(".[]()*+?{}|^$\\", c) != NULL;
}

/* inside [...]: one escape, Go's meaning; -1 when it cannot be said */
static int
autodetect_bracket_escape(
    struct autodetect_buf *b, char e, char *why, size_t whylen)
{
	switch (e) {
	case 'd':
		autodetect_put(b, "0-9");
		return 0;
	case 'w':
		autodetect_put(b, "0-9A-Za-z_");
		return 0;
	case 's':
		autodetect_put(b, "[:space:]");
		return 0;
	case '\0':
		snprintf(why, whylen, "trailing backslash");
		return -1;
	}
	if (e == ']' || e == '^' || e == '-' || e == '[' ||
	    isalnum((unsigned char)e)) {
		snprintf(why, whylen, "\\%c inside [...] is not supported", e);
		return -1;
	}
	autodetect_putc(b, e); /* a bracket takes a backslash literally */
	return 0;
}

/* outside brackets: one escape */
static int
autodetect_escape(struct autodetect_buf *b, char e, char *why, size_t whylen)
{
	static const struct {
		char c;
		const char *ere;
	} classes[] = {
	    {'d', "[0-9]"},
	    {'D', "[^0-9]"},
	    {'w', "[0-9A-Za-z_]"},
	    {'W', "[^0-9A-Za-z_]"},
	    {'s', "[[:space:]]"},
	    {'S', "[^[:space:]]"},
	};
	size_t i;

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (classes[i].c == e) {
			autodetect_put(b, classes[i].ere);
			return 0;
		}
	if (e == '\0') {
		snprintf(why, whylen, "trailing backslash");
		return -1;
	}
	if (isalnum((unsigned char)e) || !isprint((unsigned char)e)) {
		snprintf(why, whylen, "\\%c is not supported", e);
		return -1;
	}
	if (autodetect_ere_special(e))
		autodetect_putc(b, '\\');
	autodetect_putc(b, e);
	return 0;
}

/*
 * Go's regexp/syntax refuses a repetition whose copies, counting the
 * repetitions inside it, exceed 1000 ((a{100}){100}); glibc's regcomp
 * would expand it, and a few nested ones take gigabytes.  The same rule
 * here: the largest product of {n,m} counts inside each open group.
 */
#define AUTODETECT_REPEAT_MAX 1000
#define AUTODETECT_NEST_MAX 32

struct autodetect_rep {
	unsigned int inner[AUTODETECT_NEST_MAX]; /* per open group */
	int depth;
	unsigned int last; /* the atom just passed: 1, or a group's inner */
};

static int
autodetect_nested(char *why, size_t whylen)
{
	snprintf(why, whylen, "invalid nested repetition operator");
	return -1;
}

/*
 * At "{": a valid {n}, {n,} or {n,m} counts, and its length is returned
 * (it repeats what came before, so a following one multiplies: a{9}{9});
 * 0 for a literal "{", -1 when refused.
 */
static int
autodetect_rep_count(
    struct autodetect_rep *r, const char *p, char *why, size_t whylen)
{
	unsigned long n, m;
	char *end;
	unsigned long copies;

	if (!isdigit((unsigned char)p[1]))
		return 0;
	n = strtoul(p + 1, &end, 10);
	m = n;
	if (*end == ',') {
		if (isdigit((unsigned char)end[1]))
			m = strtoul(end + 1, &end, 10);
		else
			end++;
	}
	if (*end != '}' || end - p > 32)
		return 0;
	if (n > AUTODETECT_REPEAT_MAX || m > AUTODETECT_REPEAT_MAX) {
		snprintf(why, whylen, "invalid repeat count");
		return -1;
	}
	copies = (m > n ? m : n) * (unsigned long)r->last;
	if (copies > AUTODETECT_REPEAT_MAX)
		return autodetect_nested(why, whylen);
	if (copies > r->inner[r->depth])
		r->inner[r->depth] = (unsigned int)copies;
	r->last = (unsigned int)copies;
	return (int)(end - p) + 1;
}

/*
 * Go (RE2) syntax into POSIX ERE: \d \w \s and their negations, (?:...),
 * a leading (?i) (REG_ICASE), lazy quantifiers (the same yes/no answer).
 * Anything else Go has and ERE has not ((?P<n>...), \b, \pL, ...) is an
 * error.
 */
static int
autodetect_go_re(const char *in, char *out, size_t outlen, int *cflags,
    char *why, size_t whylen)
{
	struct autodetect_buf b = {.s = out, .cap = outlen};
	struct autodetect_rep rep = {.inner = {1}, .last = 1};
	const char *p = in, *end;
	bool inbr = false, after_rep = false;
	int n;

	out[0] = '\0';
	if (strncmp(p, "(?i)", 4) == 0) {
		*cflags |= REG_ICASE;
		p += 4;
	}
	while (*p != '\0') {
		if (inbr) {
			if (*p == ']') {
				inbr = false;
				autodetect_putc(&b, *p++);
			} else if (p[0] == '[' && p[1] == ':') {
				if ((end = strstr(p + 2, ":]")) == NULL) {
					snprintf(why, whylen,
					    "unterminated [:class:]");
					return -1;
				}
				while (p < end + 2)
					autodetect_putc(&b, *p++);
			} else if (*p == '\\') {
				if (autodetect_bracket_escape(
				        &b, p[1], why, whylen) == -1)
					return -1;
				p += 2;
			} else
				autodetect_putc(&b, *p++);
			continue;
		}
		switch (*p) {
		case '[':
			inbr = true;
			rep.last = 1;
			autodetect_putc(&b, *p++);
			if (*p == '^')
				autodetect_putc(&b, *p++);
			if (*p == ']') /* a literal ] first in the set */
				autodetect_putc(&b, *p++);
			break;
		case '\\':
			if (autodetect_escape(&b, p[1], why, whylen) == -1)
				return -1;
			rep.last = 1;
			p += 2;
			break;
		case '(':
			if (p[1] == '?') {
				if (p[2] != ':') {
					snprintf(why, whylen,
					    "(?%c is not supported (only "
					    "(?:...) "
					    "and a leading (?i))",
					    p[2] != '\0' ? p[2] : ' ');
					return -1;
				}
				p += 3;
			} else
				p++;
			if (++rep.depth == AUTODETECT_NEST_MAX) {
				snprintf(why, whylen, "groups nested too deep");
				return -1;
			}
			rep.inner[rep.depth] = 1;
			rep.last = 1;
			autodetect_putc(&b, '(');
			break;
		case ')':
			if (rep.depth > 0) {
				rep.last = rep.inner[rep.depth--];
				if (rep.last > rep.inner[rep.depth])
					rep.inner[rep.depth] = rep.last;
			}
			autodetect_putc(&b, *p++);
			break;
		case '{':
			if ((n = autodetect_rep_count(&rep, p, why, whylen)) ==
			    -1)
				return -1;
			if (n == 0) { /* a literal {, as Go reads it */
				rep.last = 1;
				autodetect_put(&b, "\\{");
				p++;
				break;
			}
			if (after_rep)
				return autodetect_nested(why, whylen);
			while (n-- > 0)
				autodetect_putc(&b, *p++);
			if (*p == '?') /* lazy */
				p++;
			after_rep = true;
			continue;
		case '*':
		case '+':
		case '?':
			/* a++ or a*?? : Go refuses, glibc multiplies */
			if (after_rep)
				return autodetect_nested(why, whylen);
			autodetect_putc(&b, *p++);
			if (*p == '?') /* lazy: the same match or none */
				p++;
			after_rep = true;
			continue;
		default:
			rep.last = 1;
			autodetect_putc(&b, *p++);
		}
		after_rep = false;
	}
	if (inbr) {
		snprintf(why, whylen, "missing ]");
		return -1;
	}

	if (b.overflow) {
		snprintf(why, whylen, "too long");
		return -1;
	}
	return 0;
}

static int
autodetect_re_compile(
    const char *src, struct autodetect_re *r, char *why, size_t whylen)
{
	char ere[AUTODETECT_RE_MAX];
	int cflags = REG_EXTENDED | REG_NOSUB, rc;

	if (autodetect_go_re(src, ere, sizeof(ere), &cflags, why, whylen) == -1)
		return -1;
	if ((rc = regcomp(&r->re, ere, cflags)) != 0) {
		regerror(rc, &r->re, why, whylen);
		regfree(&r->re);
		return -1;
	}
	r->src = xstrdup(src);
	return 0;
}

static void
autodetect_re_free(struct autodetect_re *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		regfree(&v[i].re);
		free(v[i].src);
	}
	free(v);
}

static bool
autodetect_re_any(const struct autodetect_re *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (regexec(&v[i].re, name, 0, NULL, 0) == 0)
			return true;
	return false;
}

/* ---- parsing ---- */

static int autodetect_err(char *err, size_t errlen, const char *var,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
autodetect_err(char *err, size_t errlen, const char *var, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (errlen == 0)
		return -1;
	n = snprintf(err, errlen, "%s: ", var);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Calico splits lists on \s*,\s*; blanks at either end are dropped too,
 * since an interface name never starts or ends with one.  Returns the
 * pieces (xstrdup'd) or -1 when one is empty.
 */
static int
autodetect_split(const char *s, char ***out, size_t *n)
{
	const char *p = s, *comma, *a, *b;
	char **v = NULL;
	size_t k = 0;

	for (;;) {
		comma = strchr(p, ',');
		a = p;
		b = comma != NULL ? comma : p + strlen(p);
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		v = xreallocarray(v, k + 1, sizeof(*v));
		v[k++] = xstrndup(a, b - a);
		if (a == b) {
			*out = v;
			*n = k;
			return -1;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*out = v;
	*n = k;
	return 0;
}

static void
autodetect_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
autodetect_parse_res(struct autodetect *ad, const char *list, const char *what,
    char *err, size_t errlen)
{
	char **v, why[256];
	size_t n, i;

	if (autodetect_split(list, &v, &n) == -1) {
		autodetect_strv_free(v, n);
		return autodetect_err(err, errlen, ad->var,
		    "%s needs a comma-separated list of regular expressions, "
		    "with none empty",
		    what);
	}
	ad->re = xcalloc(n, sizeof(*ad->re));
	for (i = 0; i < n; i++) {
		if (autodetect_re_compile(v[i], &ad->re[i], why, sizeof(why)) ==
		    -1) {
			autodetect_err(err, errlen, ad->var,
			    "%s: bad regular expression \"%s\": %s", what, v[i],
			    why);
			autodetect_strv_free(v, n);
			return -1;
		}
		ad->nre++;
	}
	autodetect_strv_free(v, n);
	return 0;
}

static int
autodetect_parse_cidrs(
    struct autodetect *ad, const char *list, char *err, size_t errlen)
{
	char **v;
	size_t n, i;

	if (autodetect_split(list, &v, &n) == -1) {
		autodetect_strv_free(v, n);
		return autodetect_err(err, errlen, ad->var,
		    "cidr= needs a comma-separated list of CIDRs, with none "
		    "empty");
	}
	ad->cidrs = xcalloc(n, sizeof(*ad->cidrs));
	for (i = 0; i < n; i++) {
		/* Go's ParseCIDR: host bits allowed, then masked */
		if (model_prefix_parse(v[i], &ad->cidrs[i]) == -1) {
			autodetect_err(err, errlen, ad->var,
			    "cidr=: invalid CIDR \"%s\"", v[i]);
			autodetect_strv_free(v, n);
			return -1;
		}
		prefix_mask(&ad->cidrs[i]);
		ad->ncidrs++;
	}
	autodetect_strv_free(v, n);
	return 0;
}

static void
autodetect_default_skips(struct autodetect *ad)
{
	char why[128];
	size_t i;

	ad->skip = xcalloc(NSKIP, sizeof(*ad->skip));
	for (i = 0; i < NSKIP; i++) {
		if (autodetect_re_compile(autodetect_default_skip[i],
		        &ad->skip[i], why, sizeof(why)) == -1)
			fatalx("%s: %s: %s", __func__,
			    autodetect_default_skip[i], why);
		ad->nskip++;
	}
}

static bool
autodetect_prefixed(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0)
		return false;
	*rest = s + n;
	return true;
}

struct autodetect *
autodetect_parse(const char *var, const char *method, char *err, size_t errlen)
{
	struct autodetect *ad;
	const char *rest;
	int rc = 0;

	if (method == NULL)
		method = "";
	ad = xcalloc(1, sizeof(*ad));
	ad->var = xstrdup(var);
	ad->text = xstrdup(*method == '\0' ? "first-found" : method);
	if (*method == '\0' || strcmp(method, "first-found") == 0) {
		ad->kind = AUTODETECT_FIRST_FOUND;
		autodetect_default_skips(ad);
	} else if (autodetect_prefixed(method, "interface=", &rest)) {
		ad->kind = AUTODETECT_INTERFACE;
		rc = autodetect_parse_res(ad, rest, "interface=", err, errlen);
	} else if (autodetect_prefixed(method, "skip-interface=", &rest)) {
		ad->kind = AUTODETECT_SKIP_INTERFACE;
		autodetect_default_skips(ad);
		rc = autodetect_parse_res(
		    ad, rest, "skip-interface=", err, errlen);
	} else if (autodetect_prefixed(method, "cidr=", &rest)) {
		ad->kind = AUTODETECT_CIDR;
		rc = autodetect_parse_cidrs(ad, rest, err, errlen);
	} else if (autodetect_prefixed(method, "can-reach=", &rest)) {
		ad->kind = AUTODETECT_CAN_REACH;
		while (isspace((unsigned char)*rest))
			rest++;
		ad->dest = xstrdup(rest);
		if (*rest == '\0' || strpbrk(rest, " \t\n/") != NULL)
			rc = autodetect_err(err, errlen, var,
			    "can-reach= needs one address or host name, not "
			    "\"%s\"",
			    rest);
	} else if (strcmp(method, "kubernetes-internal-ip") == 0) {
		rc = autodetect_err(err, errlen, var,
		    "kubernetes-internal-ip needs the Kubernetes API, which "
		    "podmesh-node does not read; use cidr= or interface=");
	} else {
		rc = autodetect_err(err, errlen, var,
		    "unknown method \"%s\" (first-found, interface=REGEX, "
		    "skip-interface=REGEX, can-reach=DEST or cidr=CIDR)",
		    method);
	}
	if (rc == -1) {
		autodetect_free(ad);
		return NULL;
	}
	return ad;
}

void
autodetect_free(struct autodetect *ad)
{
	if (ad == NULL)
		return;
	autodetect_re_free(ad->re, ad->nre);
	autodetect_re_free(ad->skip, ad->nskip);
	free(ad->cidrs);
	free(ad->dest);
	free(ad->text);
	free(ad->var);
	free(ad);
}

enum autodetect_kind
autodetect_kind(const struct autodetect *ad)
{
	return ad->kind;
}

const char *
autodetect_text(const struct autodetect *ad)
{
	return ad->text;
}

/* ---- selection ---- */

bool
autodetect_global_unicast(const struct addr *in)
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct addr a = *in;
	uint32_t v;

	/* Go treats an IPv4-mapped IPv6 address as the IPv4 one */
	if (a.family == AF_INET6 && memcmp(a.b, mapped, 12) == 0) {
		a.family = AF_INET;
		memmove(a.b, in->b + 12, 4);
		memset(a.b + 4, 0, 12);
	}
	if (a.family == AF_INET) {
		v = addr_v4(&a);
		return v != 0 && v != 0xffffffffu && (v >> 24) != 127 &&
		    (v >> 28) != 0xe && (v >> 16) != 0xa9fe;
	}
	if (a.family != AF_INET6)
		return false;
	if (a.b[0] == 0xff) /* multicast */
		return false;
	if (a.b[0] == 0xfe && (a.b[1] & 0xc0) == 0x80) /* fe80::/10 */
		return false;
	for (v = 0; v < 15; v++)
		if (a.b[v] != 0)
			return true;
	return a.b[15] > 1; /* :: and ::1 are not */
}

static void
autodetect_found(const struct autodetect_if *ifp, const struct prefix *p,
    struct autodetect_result *res)
{
	memset(res, 0, sizeof(*res));
	res->prefix = *p;
	res->ifindex = ifp->ifindex;
	snprintf(res->ifname, sizeof(res->ifname), "%s", ifp->name);
}

/*
 * Calico's ReachDestination and GetLocalCIDR take the first match in
 * GetInterfaces' list, which walks net.Interfaces in reverse: with the
 * same address on two links (a /32 on lo, a /24 on eth0), the later one's
 * length wins.
 */
int
autodetect_find(const struct autodetect_iflist *l, const struct addr *a,
    struct autodetect_result *res)
{
	size_t i, j;

	for (i = l->n; i-- > 0;)
		for (j = 0; j < l->v[i].naddrs; j++)
			if (addr_cmp(&l->v[i].addrs[j].a, a) == 0) {
				autodetect_found(
				    &l->v[i], &l->v[i].addrs[j], res);
				return 0;
			}
	return -1;
}

static bool
autodetect_if_allowed(const struct autodetect *ad, const char *name)
{
	if (ad->kind == AUTODETECT_INTERFACE &&
	    !autodetect_re_any(ad->re, ad->nre, name))
		return false;
	if (autodetect_re_any(ad->skip, ad->nskip, name))
		return false;
	if (ad->kind == AUTODETECT_SKIP_INTERFACE &&
	    autodetect_re_any(ad->re, ad->nre, name))
		return false;
	return true;
}

static bool
autodetect_in_cidrs(const struct autodetect *ad, const struct addr *a)
{
	size_t i;

	if (ad->kind != AUTODETECT_CIDR)
		return true;
	for (i = 0; i < ad->ncidrs; i++)
		if (prefix_contains(&ad->cidrs[i], a))
			return true;
	return false;
}

int
autodetect_select(const struct autodetect *ad, int family,
    const struct autodetect_iflist *l, const struct addr *reached,
    struct autodetect_result *res, char *err, size_t errlen)
{
	const struct autodetect_if *ifp;
	char a[ADDR_STRLEN];
	size_t i, j, allowed = 0;
	int v = family == AF_INET ? 4 : 6;

	if (ad->kind == AUTODETECT_CAN_REACH) {
		if (reached == NULL || reached->family != family)
			return autodetect_err(err, errlen, ad->var,
			    "can-reach=%s: no local IPv%d address found to "
			    "reach it",
			    ad->dest, v);
		if (autodetect_find(l, reached, res) == -1)
			return autodetect_err(err, errlen, ad->var,
			    "can-reach=%s: the address used to reach it, %s, "
			    "is on no local interface",
			    ad->dest, addr_ntop(reached, a, sizeof(a)));
		return 0;
	}
	/* backwards, as Calico's GetInterfaces walks net.Interfaces */
	for (i = l->n; i-- > 0;) {
		ifp = &l->v[i];
		if (!autodetect_if_allowed(ad, ifp->name))
			continue;
		allowed++;
		for (j = 0; j < ifp->naddrs; j++) {
			if (ifp->addrs[j].a.family != family ||
			    !autodetect_global_unicast(&ifp->addrs[j].a) ||
			    !autodetect_in_cidrs(ad, &ifp->addrs[j].a))
				continue;
			autodetect_found(ifp, &ifp->addrs[j], res);
			return 0;
		}
	}
	if (allowed == 0)
		return autodetect_err(err, errlen, ad->var,
		    "%s: no host interface is left to look at", ad->text);
	return autodetect_err(err, errlen, ad->var,
	    "%s: no global unicast IPv%d address on the %zu interface%s it "
	    "allows",
	    ad->text, v, allowed, allowed == 1 ? "" : "s");
}

int
autodetect_reach(const struct autodetect *ad, int family, struct addr *local,
    char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char host[256];
	size_t len;
	int fd, rc, v = family == AF_INET ? 4 : 6;

	if (ad->kind != AUTODETECT_CAN_REACH)
		return autodetect_err(
		    err, errlen, ad->var, "%s is not can-reach=", ad->text);
	/* Calico dials "[DEST]:80", so DEST may come in brackets */
	snprintf(host, sizeof(host), "%s", ad->dest);
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, "80", &hints, &ai)) != 0)
		return autodetect_err(err, errlen, ad->var,
		    "can-reach=%s: no IPv%d address for it: %s", ad->dest, v,
		    gai_strerror(rc));
	if ((fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		freeaddrinfo(ai);
		return autodetect_err(err, errlen, ad->var,
		    "can-reach=%s: socket: %s", ad->dest, strerror(errno));
	}
	/* a UDP connect only asks the kernel for a route: nothing is sent */
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		rc = errno;
		close(fd);
		freeaddrinfo(ai);
		return autodetect_err(err, errlen, ad->var,
		    "can-reach=%s: cannot reach it: %s", ad->dest,
		    strerror(rc));
	}
	freeaddrinfo(ai);
	rc = getsockname(fd, (struct sockaddr *)&ss, &sslen);
	close(fd);
	if (rc == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, local, NULL) == -1)
		return autodetect_err(err, errlen, ad->var,
		    "can-reach=%s: no local address: %s", ad->dest,
		    strerror(errno));
	local->scope_id = 0;
	return 0;
}

int
autodetect_run(const struct autodetect *ad, int family,
    const struct autodetect_iflist *l, struct autodetect_result *res, char *err,
    size_t errlen)
{
	struct addr local;

	if (ad->kind == AUTODETECT_CAN_REACH) {
		if (autodetect_reach(ad, family, &local, err, errlen) == -1)
			return -1;
		return autodetect_select(
		    ad, family, l, &local, res, err, errlen);
	}
	return autodetect_select(ad, family, l, NULL, res, err, errlen);
}

/* ---- interface lists ---- */

static struct autodetect_if *
autodetect_iflist_get(struct autodetect_iflist *l, int ifindex)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].ifindex == ifindex)
			return &l->v[i];
	return NULL;
}

static struct autodetect_if *
autodetect_iflist_new(
    struct autodetect_iflist *l, int ifindex, const char *name)
{
	struct autodetect_if *ifp;

	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	ifp = &l->v[l->n++];
	memset(ifp, 0, sizeof(*ifp));
	ifp->ifindex = ifindex;
	snprintf(ifp->name, sizeof(ifp->name), "%s", name);
	return ifp;
}

static void
autodetect_if_addr(struct autodetect_if *ifp, const struct prefix *p)
{
	ifp->addrs = xreallocarray(ifp->addrs, ifp->naddrs + 1, sizeof(*p));
	ifp->addrs[ifp->naddrs++] = *p;
}

void
autodetect_iflist_add(struct autodetect_iflist *l, int ifindex,
    const char *name, const char *const *addrs, size_t naddrs)
{
	struct autodetect_if *ifp;
	struct prefix p;
	size_t i;

	ifp = autodetect_iflist_new(l, ifindex, name);
	for (i = 0; i < naddrs; i++) {
		if (model_prefix_parse(addrs[i], &p) == -1)
			fatalx("%s: bad address %s", __func__, addrs[i]);
		autodetect_if_addr(ifp, &p);
	}
}

void
autodetect_iflist_build(struct autodetect_iflist *l,
    const struct nl_link_info *links, size_t nlinks,
    const struct nl_addr *addrs, size_t naddrs)
{
	struct autodetect_if *ifp;
	size_t i;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < nlinks; i++)
		autodetect_iflist_new(l, links[i].ifindex, links[i].name);
	for (i = 0; i < naddrs; i++)
		if ((ifp = autodetect_iflist_get(l, addrs[i].ifindex)) != NULL)
			autodetect_if_addr(ifp, &addrs[i].prefix);
}

int
autodetect_iflist_load(
    struct nl *nl, struct autodetect_iflist *l, char *err, size_t errlen)
{
	struct nl_link_info *links = NULL;
	struct nl_addr *addrs = NULL;
	size_t nlinks, naddrs;

	memset(l, 0, sizeof(*l));
	/* the dump's order, not ifindex order: Go's net.Interfaces' */
	if (nl_link_list_unsorted(nl, &links, &nlinks, err, errlen) == -1)
		return -1;
	if (nl_addr_list(nl, AF_UNSPEC, 0, &addrs, &naddrs, err, errlen) ==
	    -1) {
		free(links);
		return -1;
	}
	autodetect_iflist_build(l, links, nlinks, addrs, naddrs);
	free(links);
	free(addrs);
	return 0;
}

void
autodetect_iflist_clean(struct autodetect_iflist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].addrs);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
