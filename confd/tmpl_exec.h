/*
 * The executor's insides shared with the builtins (tmpl_builtin.c): the
 * value as execution sees it (Go's reflect.Value: invalid, an interface
 * holding something, or a concrete value) and one call in progress.
 */
#ifndef PODMESH_CONFD_TMPL_EXEC_H
#define PODMESH_CONFD_TMPL_EXEC_H

#include "confd/tmpl_int.h"

/*
 * v NULL: Go's invalid (zero) reflect.Value, what a missing map key or nil
 * data gives; printed "<no value>".  iface: the value has Go's static type
 * interface{} (a map element, an []interface{} item), so a nil one is
 * TV_NIL and messages name its type "interface {}".
 */
struct xval {
	struct tval *v;
	bool iface;
};

struct estate;

struct tmpl_call {
	struct estate *s;
	const char *name;
	struct tnode *node; /* "error calling" is reported here */
	struct tnode *const *argnodes; /* explicit arguments' nodes */
	size_t nexplicit;
	struct tnode *last; /* the node current when the call began */
	const struct xval *xargs; /* the arguments as evaluated */
	struct tval *const *args;
	size_t nargs;
	bool failed;
};

/*
 * Go's state.errorf: "template: LOC: executing NAME at <NODE>: msg", at
 * node at (NULL: the current node); -1.
 */
int texec_errorf(struct estate *, struct tnode *at, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* Go's %s of a node, malloc'd */
char *texec_node_str(const struct tnode *);
/* time.Time's Format method; its ctx is the time value */
extern const struct tmpl_func texec_time_format;

#endif
