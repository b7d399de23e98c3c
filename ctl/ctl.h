/*
 * podmeshctl internals: the command table entry, the control-socket client
 * and the table formatter.  podmeshctl links only podmesh_lib and jansson,
 * never the daemon's code: it speaks the socket protocol of bgp/control.h.
 */
#ifndef PODMESH_CTL_H
#define PODMESH_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define CTL_DEFAULT_BGPD_SOCKET "/run/podmesh/bgpd.sock"
#define CTL_SOCKET_ENV "PODMESH_BGPD_SOCKET"

enum ctl_output {
	OUTPUT_TABLE,
	OUTPUT_JSON,
};

/* what the command line said, beyond the command words */
struct ctl {
	const char *socket;
	enum ctl_output output;
};

struct ctl_cmd {
	const char *group; /* "bgp" */
	const char *name; /* "peers" */
	const char *args; /* for usage: "[PREFIX|ADDRESS]" */
	const char *help;
	int minargs;
	int maxargs;
	bool output; /* takes -o */
	int (*exec)(struct ctl *, int, char **);
};

/* bgp.c */
extern const struct ctl_cmd bgp_cmds[];
extern const size_t bgp_ncmds;
json_t *bgp_request(const char *, const char *);

/* table.c */
struct table;

struct table *table_new(int, const char *const *);
void table_add(struct table *, const char *const *);
void table_print(struct table *, FILE *);
void table_free(struct table *);
void table_duration(uint64_t, char *, size_t);
int table_peers(json_t *, FILE *);
int table_routes(json_t *, FILE *);

#endif
