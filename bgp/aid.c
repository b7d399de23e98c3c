/* Address family identifiers: our AIDs against AFI/SAFI (RFC 4760). */
#include <sys/socket.h>

#include "bgp/wire.h"

static const struct {
	uint16_t afi;
	uint8_t safi;
	int family;
	const char *name;
} aid_table[AID_MAX] = {
    [AID_IPV4] = {AFI_IPV4, SAFI_UNICAST, AF_INET, "ipv4"},
    [AID_IPV6] = {AFI_IPV6, SAFI_UNICAST, AF_INET6, "ipv6"},
};

int
aid_from_afi(uint16_t afi, uint8_t safi, enum aid *aid)
{
	int i;

	for (i = 0; i < AID_MAX; i++) {
		if (aid_table[i].afi == afi && aid_table[i].safi == safi) {
			*aid = i;
			return 0;
		}
	}
	return -1;
}

uint16_t
aid_afi(enum aid aid)
{
	return aid_table[aid].afi;
}

uint8_t
aid_safi(enum aid aid)
{
	return aid_table[aid].safi;
}

int
aid_family(enum aid aid)
{
	return aid_table[aid].family;
}

enum aid
aid_from_family(int family)
{
	return family == AF_INET6 ? AID_IPV6 : AID_IPV4;
}

const char *
aid_name(enum aid aid)
{
	return aid < AID_MAX ? aid_table[aid].name : "unknown";
}
