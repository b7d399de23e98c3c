/*
 * libFuzzer target: one link or address message from the kernel (a dump
 * entry or a notification, as the kernel sync's monitor reads them),
 * nlmsg_len set to the input's size, given to nl_ifinfo_decode and
 * nl_ifaddr_decode.  A failure must say why; a decoded link has a
 * NUL-terminated name shorter than NL_IFNAMSIZ and a non-zero index; a
 * decoded address has a family the decoder knows and a length within it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/nl.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_setlevel(LOG_LVL_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	struct nlmsghdr *nlh;
	struct nl_ifinfo li;
	struct nl_ifaddr ia;
	char err[256], s[PREFIX_STRLEN];

	if (size < sizeof(*nlh) || size > 65536)
		return 0;
	/* netlink messages are 4-byte aligned; give the decoders that */
	buf = aligned_alloc(4, (size + 3) & ~(size_t)3);
	memcpy(buf, data, size);
	nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len = (uint32_t)size;

	err[0] = '\0';
	if (nl_ifinfo_decode(nlh, &li, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			__builtin_trap();
	} else if (li.ifindex == 0 ||
	    memchr(li.name, '\0', sizeof(li.name)) == NULL ||
	    (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK))
		__builtin_trap();

	err[0] = '\0';
	if (nl_ifaddr_decode(nlh, &ia, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			__builtin_trap();
	} else {
		if (ia.ifindex == 0 ||
		    (ia.prefix.a.family != AF_INET &&
		        ia.prefix.a.family != AF_INET6) ||
		    ia.prefix.len > addr_maxlen(ia.prefix.a.family))
			__builtin_trap();
		prefix_ntop(&ia.prefix, s, sizeof(s));
	}
	free(buf);
	return 0;
}
