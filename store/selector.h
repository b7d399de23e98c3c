/*
 * Calico label selectors: parse, evaluate against a set of labels, print.
 *
 * The language is Calico's (libcalico-go lib/selector, calico.md §1):
 *
 *	all()  has(k)  !has(k)  k == "v"  k != "v"
 *	k in {"a", "b"}  k not in {"a", "b"}  !e  e && e  e || e  (e)
 *
 * Precedence is ! over && over ||.  Strings are quoted with " or ' and have
 * no escapes, so a string cannot hold its own quote.  Label keys are runs of
 * [A-Za-z0-9_./-] of at most SELECTOR_MAX_KEY bytes, Calico's rule and a
 * superset of Kubernetes' prefix/name keys.  Whitespace between tokens is
 * ignored.  An empty (or all-blank) selector parses as all(), as in Calico;
 * whether an empty resource field means "every node" or "not selector
 * based" is for the resource code to decide before it calls the parser.
 *
 * Evaluation follows Calico: == and in need the label present, != and
 * not in are true when it is absent.
 */
#ifndef PODMESH_STORE_SELECTOR_H
#define PODMESH_STORE_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#define SELECTOR_MAX_LEN (1024 * 1024) /* bytes of selector text */
#define SELECTOR_MAX_KEY 512 /* bytes of one label key */
#define SELECTOR_MAX_DEPTH 64 /* nested parentheses, && and || */

struct selector;

struct label {
	const char *key;
	const char *value;
};

/*
 * A read-only view of one object's labels, handed over without copying:
 * either an array v[0..n) (the first entry with a key wins), or, when
 * lookup is set, a function that returns the value of key (NULL when
 * absent), e.g. a getter on a JSON object the watch cache already holds.
 */
struct labels {
	const struct label *v;
	size_t n;
	const char *(*lookup)(void *arg, const char *key);
	void *arg;
};

/*
 * Parse text.  On error returns NULL and writes into err (if errlen > 0)
 * a message such as "column 7: expected a quoted string, found 'b'".
 * The caller frees the result with selector_free().
 */
struct selector *selector_parse(const char *text, char *err, size_t errlen);
void selector_free(struct selector *);

/* Does an object with these labels match?  NULL labels means none. */
bool selector_match(const struct selector *, const struct labels *);

/* The value of key in labels, or NULL when it is absent. */
const char *selector_label_get(const struct labels *, const char *key);

/*
 * Print the canonical form, which selector_parse() reads back to the same
 * selector: Calico's own String() form, e.g.
 * (a == "x" && !has(b) && c in {"p", "q"}) with set members sorted and
 * unique.  Like snprintf: writes at most len bytes including the NUL and
 * returns the length of the whole form.
 */
int selector_format(const struct selector *, char *buf, size_t len);

#endif
