/*
 * IPv4/IPv6 addresses and prefixes, independent of any protocol.
 * An address with family 0 is "none".
 */
#ifndef PODMESH_ADDR_H
#define PODMESH_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define ADDR_STRLEN 64 /* INET6_ADDRSTRLEN + "%" + interface index */
#define PREFIX_STRLEN 70 /* ADDR_STRLEN + "/128" */

struct addr {
	uint8_t family; /* AF_INET, AF_INET6 or 0 */
	uint32_t scope_id;
	union {
		uint8_t b[16];
		struct in_addr v4;
		struct in6_addr v6;
	};
};

struct prefix {
	struct addr a;
	uint8_t len;
};

int addr_parse(const char *, struct addr *);
int prefix_parse(const char *, struct prefix *);
const char *addr_ntop(const struct addr *, char *, size_t);
const char *prefix_ntop(const struct prefix *, char *, size_t);
int addr_cmp(const struct addr *, const struct addr *);
int prefix_cmp(const struct prefix *, const struct prefix *);
bool addr_is_set(const struct addr *);
bool addr_is_linklocal(const struct addr *);
int addr_maxlen(int);
int addr_bytes(int);
void addr_from_v4(struct addr *, uint32_t);
void addr_v4mapped(struct addr *, const struct addr *);
uint32_t addr_v4(const struct addr *);
void prefix_mask(struct prefix *);
bool prefix_has_hostbits(const struct prefix *);
bool prefix_contains(const struct prefix *, const struct addr *);
bool prefix_covers(const struct prefix *, const struct prefix *);
int addr_bit(const struct addr *, unsigned int);
socklen_t addr_to_sockaddr(
    const struct addr *, uint16_t, struct sockaddr_storage *);
int addr_from_sockaddr(const struct sockaddr *, struct addr *, uint16_t *);

#endif
