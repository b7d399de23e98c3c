/* Address and prefix parsing, formatting and comparison. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int
addr_bytes(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int
addr_maxlen(int family)
{
	return addr_bytes(family) * 8;
}

int
addr_parse(const char *s, struct addr *a)
{
	char buf[ADDR_STRLEN], *pct;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((pct = strchr(buf, '%')) != NULL) {
		*pct++ = '\0';
		if ((a->scope_id = if_nametoindex(pct)) == 0) {
			char *end;
			unsigned long v = strtoul(pct, &end, 10);
			if (*pct == '\0' || *end != '\0' || v == 0 ||
			    v > UINT32_MAX)
				return -1;
			a->scope_id = v;
		}
	}
	if (inet_pton(AF_INET6, buf, &a->v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return -1;
}

int
prefix_parse(const char *s, struct prefix *p)
{
	char buf[PREFIX_STRLEN], *slash, *end;
	unsigned long len;

	memset(p, 0, sizeof(*p));
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash++ = '\0';
	if (addr_parse(buf, &p->a) == -1 || p->a.scope_id != 0)
		return -1;
	len = strtoul(slash, &end, 10);
	if (*slash == '\0' || *end != '\0' ||
	    len > (unsigned long)addr_maxlen(p->a.family))
		return -1;
	p->len = len;
	return 0;
}

const char *
addr_ntop(const struct addr *a, char *buf, size_t len)
{
	char ifname[IF_NAMESIZE];
	size_t n;

	if (a->family == 0) {
		snprintf(buf, len, "none");
		return buf;
	}
	if (inet_ntop(a->family, a->b, buf, len) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (a->family == AF_INET6 && a->scope_id != 0) {
		n = strlen(buf);
		if (if_indextoname(a->scope_id, ifname) != NULL)
			snprintf(buf + n, len - n, "%%%s", ifname);
		else
			snprintf(buf + n, len - n, "%%%u", a->scope_id);
	}
	return buf;
}

const char *
prefix_ntop(const struct prefix *p, char *buf, size_t len)
{
	size_t n;

	addr_ntop(&p->a, buf, len);
	n = strlen(buf);
	snprintf(buf + n, len - n, "/%u", p->len);
	return buf;
}

int
addr_cmp(const struct addr *a, const struct addr *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if ((r = memcmp(a->b, b->b, addr_bytes(a->family))) != 0)
		return r < 0 ? -1 : 1;
	if (a->scope_id != b->scope_id)
		return a->scope_id < b->scope_id ? -1 : 1;
	return 0;
}

int
prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	int r;

	if ((r = addr_cmp(&a->a, &b->a)) != 0)
		return r;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

bool
addr_is_set(const struct addr *a)
{
	static const uint8_t zero[16];

	return a->family != 0 && memcmp(a->b, zero, addr_bytes(a->family)) != 0;
}

bool
addr_is_linklocal(const struct addr *a)
{
	return a->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&a->v6);
}

void
addr_from_v4(struct addr *a, uint32_t host)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->v4.s_addr = htonl(host);
}

/* ::ffff:a.b.c.d for an IPv4 address */
void
addr_v4mapped(struct addr *m, const struct addr *v4)
{
	memset(m, 0, sizeof(*m));
	m->family = AF_INET6;
	m->b[10] = m->b[11] = 0xff;
	memcpy(&m->b[12], &v4->v4, 4);
}

uint32_t
addr_v4(const struct addr *a)
{
	return a->family == AF_INET ? ntohl(a->v4.s_addr) : 0;
}

int
addr_bit(const struct addr *a, unsigned int bit)
{
	return (a->b[bit / 8] >> (7 - bit % 8)) & 1;
}

void
prefix_mask(struct prefix *p)
{
	int i, bytes = addr_bytes(p->a.family);

	for (i = 0; i < bytes; i++) {
		int bits = (int)p->len - i * 8;
		if (bits <= 0)
			p->a.b[i] = 0;
		else if (bits < 8)
			p->a.b[i] &= (uint8_t)(0xff << (8 - bits));
	}
}

bool
prefix_has_hostbits(const struct prefix *p)
{
	struct prefix m = *p;

	prefix_mask(&m);
	return memcmp(m.a.b, p->a.b, sizeof(m.a.b)) != 0;
}

bool
prefix_contains(const struct prefix *p, const struct addr *a)
{
	struct prefix m = {.a = *a, .len = p->len};

	if (a->family != p->a.family)
		return false;
	m.a.scope_id = 0;
	prefix_mask(&m);
	return memcmp(m.a.b, p->a.b, addr_bytes(a->family)) == 0;
}

bool
prefix_covers(const struct prefix *outer, const struct prefix *inner)
{
	return inner->len >= outer->len && prefix_contains(outer, &inner->a);
}

socklen_t
addr_to_sockaddr(
    const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->v4;
		return sizeof(*sin);
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->v6;
		sin6->sin6_scope_id = a->scope_id;
		return sizeof(*sin6);
	}
	return 0;
}

int
addr_from_sockaddr(const struct sockaddr *sa, struct addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		a->family = AF_INET;
		a->v4 = sin->sin_addr;
		if (port)
			*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;
		/* v4-mapped peers on a dual-stack socket are IPv4 peers */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			a->family = AF_INET;
			memcpy(&a->v4, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			a->family = AF_INET6;
			a->v6 = sin6->sin6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
				a->scope_id = sin6->sin6_scope_id;
		}
		if (port)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}
