/*
 * A template engine with the semantics of Go's text/template, for what
 * confd templates use (calico.md §3): actions with {{- -}} trimming,
 * pipelines, variables, if/else if/else, range (lists, maps in key order,
 * break/continue), with, define/template/block, comments, literals, the
 * builtins and, or, not, eq, ne, lt, le, gt, ge, len, index, print, printf,
 * println, and the functions the caller registers (confd's, confd/funcs.c).
 *
 *	struct tmpl *t = tmpl_new("bird.cfg.template");
 *	tmpl_funcs(t, confd_funcs, n, ctx);	   before parsing, as Go's Funcs
 *	if (tmpl_parse(t, text, len, &err) == -1) ...
 *	if (tmpl_execute(t, NULL, NULL, &out, &err) == -1) ...
 *	tmpl_free(t);
 *
 * Output is byte-identical to Go's for the same template, data and
 * functions.  Errors read as Go's: parse errors
 *	template: NAME:LINE:COL: message
 * (Go gives the line alone; the column, 0-based bytes into the line as in
 * Go's execution errors, is ours), execution errors as Go words them:
 *	template: NAME:LINE:COL: executing "NAME" at <getv "/x">: error
 *	calling getv: key does not exist: /x
 *
 * Values (struct tval) are immutable and reference counted: a function
 * gets borrowed arguments and returns a new reference.  They model the Go
 * types confd's functions take and return: nil, bool, int, float64,
 * string, []string, []interface{}, []memkv.KVPair, map[string]interface{},
 * memkv.KVPair and time.Time.
 */
#ifndef PODMESH_CONFD_TMPL_H
#define PODMESH_CONFD_TMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TMPL_ERRLEN 1024

/* ---- values ---- */

enum tval_kind {
	TV_NIL, /* Go's nil interface{} */
	TV_BOOL,
	TV_INT, /* Go's int (64 bits here, as on amd64) */
	TV_FLOAT, /* float64 */
	TV_STRING, /* bytes, may hold NULs */
	TV_LIST, /* a slice; elem says of what */
	TV_MAP, /* map[string]interface{}: keys unique and sorted (strcmp) */
	TV_KV, /* memkv.KVPair{Key, Value string} */
	TV_TIME, /* time.Time */
};

enum tval_elem {
	TVE_ANY, /* []interface{} */
	TVE_STRING, /* []string: every item TV_STRING */
	TVE_KV, /* []memkv.KVPair: every item TV_KV */
};

struct tval {
	enum tval_kind kind;
	unsigned int refs;
	union {
		bool b;
		int64_t i;
		double f;
		struct {
			char *p; /* NUL after len bytes */
			size_t len;
		} s;
		struct {
			enum tval_elem elem;
			struct tval **v;
			size_t n;
		} list;
		struct {
			char **keys; /* NUL-terminated, sorted by strcmp */
			struct tval **vals;
			size_t n;
		} map;
		struct {
			char *key;
			char *value;
		} kv;
		struct {
			struct timespec ts; /* since the epoch */
			int utc_offset; /* seconds east of UTC */
			char zone[16]; /* "UTC", "CET" */
		} time;
	} u;
};

/* New values, each with one reference. */
struct tval *tval_nil(void);
struct tval *tval_bool(bool);
struct tval *tval_int(int64_t);
struct tval *tval_float(double);
struct tval *tval_str(const char *); /* copies */
struct tval *tval_strn(const char *, size_t); /* copies */
struct tval *tval_str_take(char *, size_t); /* takes a malloc'd buffer */
/* An empty list of elem; append takes over the item's reference. */
struct tval *tval_list(enum tval_elem);
void tval_list_append(struct tval *list, struct tval *item);
/* An empty map; set takes the value's reference, replaces a key's value. */
struct tval *tval_map(void);
void tval_map_set(struct tval *map, const char *key, struct tval *val);
/* The value of key, borrowed, or NULL when absent. */
struct tval *tval_map_get(const struct tval *map, const char *key);
struct tval *tval_kv(const char *key, const char *value);
struct tval *tval_time(const struct timespec *, int utc_offset, const char *);

struct tval *tval_ref(struct tval *);
void tval_unref(struct tval *); /* NULL is fine */

/*
 * Go's reflect type name of the value, for messages: "string", "int",
 * "float64", "bool", "[]string", "[]interface {}", "[]memkv.KVPair",
 * "map[string]interface {}", "memkv.KVPair", "time.Time", "<nil>".
 */
const char *tval_type_name(const struct tval *);
/* Go's truth: false, 0, "", nil and empty lists and maps are false. */
bool tval_truth(const struct tval *);

/*
 * A growing byte buffer, for output and for formatting.  p is NUL
 * terminated (after len bytes) once anything was written; the owner frees
 * p.
 */
struct tbuf {
	char *p;
	size_t len, cap;
};

void tbuf_add(struct tbuf *, const void *, size_t);
void tbuf_adds(struct tbuf *, const char *);
void tbuf_addf(struct tbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void tbuf_free(struct tbuf *);

/*
 * fmt's %v of the value, as Go prints it: fmt.Fprint for one operand, so
 * 1e+06 for float64(1000000), [a b] for lists, map[a:1 b:x],
 * {/key value} for a KVPair, <nil> for nil, the time as time.Time's
 * String().  Nested lists and maps print to any depth the thread's stack
 * holds (8 MiB: tens of thousands of levels), then as [...].
 */
void tval_print(struct tbuf *, const struct tval *);
/*
 * Go's fmt.Sprintf(format, args...), fmt.Sprint(args...) and
 * fmt.Sprintln(args...) over values: every verb and flag fmt knows for
 * these types, and fmt's own complaints (%!d(string=x), %!s(MISSING),
 * %!(EXTRA int=1)).
 */
void tval_sprintf(struct tbuf *, const char *format, size_t len,
    struct tval *const *args, size_t n);
void tval_sprint(struct tbuf *, struct tval *const *args, size_t n);
void tval_sprintln(struct tbuf *, struct tval *const *args, size_t n);

/*
 * Go's time.Time.Format(layout) (the reference time Mon Jan 2 15:04:05
 * MST 2006), and time.Time.String(): "2006-01-02 15:04:05.999999999 -0700
 * MST".  The engine calls them for {{ $t.Format "..." }} and printing.
 */
void tval_time_format(struct tbuf *, const struct tval *, const char *layout);
void tval_time_string(struct tbuf *, const struct tval *);

/* ---- functions ---- */

struct tmpl_call; /* one call in progress (private to the engine) */

/*
 * A function: args are borrowed, nargs already checked against the entry's
 * min/max.  Returns a new reference, or NULL after tmpl_call_error() or
 * tmpl_call_type_error().
 */
typedef struct tval *tmpl_fn(
    struct tmpl_call *, struct tval *const *args, size_t nargs, void *ctx);

struct tmpl_func {
	const char *name;
	tmpl_fn *fn;
	int min_args;
	int max_args; /* -1: variadic */
};

/*
 * The function failed: Go's "error calling NAME: <message>" (the function
 * returned a non-nil error).
 */
void tmpl_call_error(struct tmpl_call *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * Argument i has the wrong type: Go's "wrong type for value; expected
 * <want>; got <tval_type_name>" (reflect's conversion failure).
 */
void tmpl_call_type_error(
    struct tmpl_call *, const struct tval *arg, const char *want);
/*
 * Argument helpers: the value as Go would pass it to a parameter of that
 * type, or -1 after tmpl_call_type_error().  arg_int accepts TV_INT (and
 * nothing else, as reflect); the string is borrowed from the value.
 */
int tmpl_arg_string(
    struct tmpl_call *, const struct tval *, const char **, size_t *);
int tmpl_arg_int(struct tmpl_call *, const struct tval *, int64_t *);
/* the name of the function being called */
const char *tmpl_call_name(const struct tmpl_call *);

/* ---- templates ---- */

struct tmpl;

/* A template set whose main template is called name (Go's template.New). */
struct tmpl *tmpl_new(const char *name);
void tmpl_free(struct tmpl *);
/*
 * Adds functions, searched before the builtins (Go's Funcs): they must be
 * set before tmpl_parse(), which refuses a call of an unknown function.
 * funcs must outlive the template; ctx is passed to every call.  May be
 * called more than once; a later name replaces an earlier one.
 */
void tmpl_funcs(struct tmpl *, const struct tmpl_func *, size_t, void *ctx);
/*
 * Parses text as the main template's body, adding the templates it
 * defines (define/block) to the set; a redefinition of a non-empty
 * template is an error, as in Go.  0, or -1 with the message in err
 * (TMPL_ERRLEN bytes are enough).  A set that failed to parse may not be
 * executed.
 */
int tmpl_parse(struct tmpl *, const char *text, size_t len, char *, size_t);
/*
 * Executes the template called name (NULL: the main one) with dot as data
 * (NULL: nil, as confd passes), appending to out.  0, or -1 with the
 * message: out then holds what was written before the error, as Go's
 * writer would.  Execution is bounded: templates nest at most 100000 deep
 * (Go's maxExecDepth) and a range over n items runs n times, so a template
 * always ends.
 */
int tmpl_execute(struct tmpl *, const char *name, struct tval *dot,
    struct tbuf *out, char *, size_t);

#endif
