/*
 * YAML <-> JSON for resource files (yamljson.h).  Parsing is event driven:
 * libyaml's events build jansson values on an explicit stack, so depth,
 * alias expansion and the line of every value stay under our control (the
 * document API would hand over a graph without key lines, where an alias
 * can even point at its own ancestor).  Emitting goes through libyaml's
 * emitter, quoting every string that this parser, or another YAML 1.1
 * reader (go-yaml v2, PyYAML), would not read back as a string.
 */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/yamljson.h"

#define YJ_MAX_FILE (64 * 1024 * 1024)
#define YJ_MAX_ANCHORS 256 /* per document; lookups are linear */
#define YJ_MAX_LINEPATH 512 /* longer paths get their ancestor's line */

/* a collection being built */
struct yj_frame {
	json_t *v; /* the object or array */
	char *anchor; /* registered when the collection ends */
	char *key; /* object: the key whose value comes next */
	size_t index; /* array: the index of the next item */
	size_t pathlen; /* length of this collection's path */
	size_t parentlen; /* length of the parent's path */
	size_t size; /* values in this subtree so far */
	size_t bytes; /* of its strings and keys so far */
	int height; /* levels of collections in this subtree */
};

struct yj_anchor {
	char *name;
	json_t *v;
	size_t size; /* what an alias of it copies: values */
	size_t bytes; /* and bytes of strings and keys */
	int height;
};

/* parse state for one yamljson_parse() */
struct yj {
	const char *name;
	char *err;
	size_t errlen;
	struct yamljson *out;
	int docindex; /* documents started so far */
	bool indoc;
	int docline;
	json_t *root;
	json_t *lines;
	struct yj_frame stack[YAMLJSON_MAX_DEPTH];
	int depth;
	struct yj_anchor *anchors;
	size_t nanchors;
	size_t aliased; /* values aliases copied, in the whole file */
	size_t aliased_bytes; /* and their bytes */
	size_t max_bytes; /* the budget for aliased_bytes */
	char *path;
	size_t pathlen, pathcap;
};

static int yj_err(struct yj *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
yj_err(struct yj *y, int line, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (y->errlen > 0)
		snprintf(y->err, y->errlen, "%s:%d: document %d: %s", y->name,
		    line, y->indoc ? y->docindex : y->docindex + 1, msg);
	return -1;
}

static void
yj_path_set(struct yj *y, size_t len)
{
	y->pathlen = len;
	y->path[len] = '\0';
}

static void
yj_path_add(struct yj *y, const char *s, size_t n)
{
	if (y->pathlen + n + 1 > y->pathcap) {
		y->pathcap = (y->pathlen + n + 1) * 2;
		y->path = xrealloc(y->path, y->pathcap);
	}
	memcpy(y->path + y->pathlen, s, n);
	yj_path_set(y, y->pathlen + n);
}

/* extend the path to the next value of the innermost collection */
static void
yj_path_child(struct yj *y)
{
	struct yj_frame *f;
	char buf[32];

	if (y->depth == 0)
		return;
	f = &y->stack[y->depth - 1];
	if (json_is_array(f->v)) {
		snprintf(buf, sizeof(buf), "[%zu]", f->index);
		yj_path_add(y, buf, strlen(buf));
	} else {
		if (y->pathlen > 0)
			yj_path_add(y, ".", 1);
		yj_path_add(y, f->key, strlen(f->key));
	}
}

/*
 * Members of a mapping carry the line of their key (recorded with the key);
 * list items and the root carry their own.
 */
static void
yj_line(struct yj *y, int line)
{
	if (y->depth > 0 && json_is_object(y->stack[y->depth - 1].v))
		return;
	if (y->pathlen <= YJ_MAX_LINEPATH)
		json_object_set_new(y->lines, y->path, json_integer(line));
}

static bool
yj_awaiting_key(const struct yj *y)
{
	const struct yj_frame *f;

	if (y->depth == 0)
		return false;
	f = &y->stack[y->depth - 1];
	return json_is_object(f->v) && f->key == NULL;
}

static int
yj_anchor_add(struct yj *y, const char *name, json_t *v, size_t size,
    size_t bytes, int h, int line)
{
	struct yj_anchor *a;

	if (y->nanchors == YJ_MAX_ANCHORS)
		return yj_err(y, line, "more than %d anchors", YJ_MAX_ANCHORS);
	y->anchors =
	    xreallocarray(y->anchors, y->nanchors + 1, sizeof(*y->anchors));
	a = &y->anchors[y->nanchors++];
	a->name = xstrdup(name);
	a->v = json_incref(v);
	a->size = size;
	a->bytes = bytes;
	a->height = h;
	return 0;
}

static void
yj_anchors_clear(struct yj *y)
{
	size_t i;

	for (i = 0; i < y->nanchors; i++) {
		free(y->anchors[i].name);
		json_decref(y->anchors[i].v);
	}
	free(y->anchors);
	y->anchors = NULL;
	y->nanchors = 0;
}

/* a complete value (owned) goes into its parent, or becomes the root */
static int
yj_put(struct yj *y, json_t *v, size_t size, size_t bytes, int height, int line)
{
	struct yj_frame *f;

	if (y->depth == 0) {
		json_decref(y->root);
		y->root = v;
		return 0;
	}
	f = &y->stack[y->depth - 1];
	f->size += size;
	f->bytes += bytes;
	if (height + 1 > f->height)
		f->height = height + 1;
	if (json_is_array(f->v)) {
		json_array_append_new(f->v, v);
		f->index++;
	} else {
		if (json_object_set_new(f->v, f->key, v) == -1)
			return yj_err(y, line, "invalid mapping key");
		free(f->key);
		f->key = NULL;
	}
	yj_path_set(y, f->pathlen);
	return 0;
}

/* the type of a scalar: plain ones are resolved, the rest are strings */
static json_t *
yj_scalar_value(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_string(s);
	if (!ev->data.scalar.plain_implicit && tag != NULL &&
	    strcmp(tag, YAML_STR_TAG) == 0)
		return json_string(s);
	return yamljson_resolve(s);
}

static int
yj_scalar(struct yj *y, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length, bytes;
	int line = ev->start_mark.line + 1;
	struct yj_frame *f;
	json_t *v;
	int rc;

	if (memchr(s, '\0', len) != NULL)
		return yj_err(y, line, "NUL characters are not supported");
	if (yj_awaiting_key(y)) {
		f = &y->stack[y->depth - 1];
		if (json_object_get(f->v, s) != NULL)
			return yj_err(y, line, "duplicate key \"%s\"", s);
		f->key = xstrdup(s);
		f->bytes += len; /* an alias of the mapping copies the key */
		yj_path_child(y);
		if (y->pathlen <= YJ_MAX_LINEPATH)
			json_object_set_new(
			    y->lines, y->path, json_integer(line));
		yj_path_set(y, f->pathlen);
		if (ev->data.scalar.anchor == NULL)
			return 0;
		/* an anchored key can be used as a value */
		v = json_string(s);
		rc = yj_anchor_add(y, (const char *)ev->data.scalar.anchor, v,
		    1, len, 0, line);
		json_decref(v);
		return rc;
	}
	if ((v = yj_scalar_value(ev)) == NULL)
		return yj_err(y, line, "invalid scalar");
	bytes = json_is_string(v) ? len : 0;
	yj_path_child(y);
	yj_line(y, line);
	if (ev->data.scalar.anchor != NULL &&
	    yj_anchor_add(y, (const char *)ev->data.scalar.anchor, v, 1, bytes,
	        0, line) == -1) {
		json_decref(v);
		return -1;
	}
	return yj_put(y, v, 1, bytes, 0, line);
}

static int
yj_alias(struct yj *y, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	int line = ev->start_mark.line + 1;
	struct yj_anchor *a = NULL;
	size_t i;

	for (i = y->nanchors; i > 0; i--)
		if (strcmp(y->anchors[i - 1].name, name) == 0) {
			a = &y->anchors[i - 1];
			break;
		}
	if (a == NULL)
		return yj_err(y, line, "undefined alias \"%s\"", name);
	if (yj_awaiting_key(y))
		return yj_err(y, line, "an alias cannot be a mapping key");
	if (y->depth + a->height > YAMLJSON_MAX_DEPTH)
		return yj_err(y, line, "nested deeper than %d levels",
		    YAMLJSON_MAX_DEPTH);
	/* checked before copying: the copy is what must not happen */
	if (a->size > YAMLJSON_MAX_ALIASED - y->aliased)
		return yj_err(y, line, "aliases expand to more than %d values",
		    YAMLJSON_MAX_ALIASED);
	if (a->bytes > y->max_bytes - y->aliased_bytes)
		return yj_err(y, line,
		    "aliases expand to more than %zu bytes (anchor \"%s\" "
		    "holds %zu)",
		    y->max_bytes, name, a->bytes);
	y->aliased += a->size;
	y->aliased_bytes += a->bytes;
	yj_path_child(y);
	yj_line(y, line);
	return yj_put(
	    y, json_deep_copy(a->v), a->size, a->bytes, a->height, line);
}

static int
yj_start(struct yj *y, json_t *v, const yaml_char_t *anchor, int line)
{
	struct yj_frame *f;
	size_t parentlen = y->pathlen;

	if (yj_awaiting_key(y)) {
		json_decref(v);
		return yj_err(y, line, "a mapping key must be a scalar");
	}
	if (y->depth == YAMLJSON_MAX_DEPTH) {
		json_decref(v);
		return yj_err(y, line, "nested deeper than %d levels",
		    YAMLJSON_MAX_DEPTH);
	}
	yj_path_child(y);
	yj_line(y, line);
	f = &y->stack[y->depth++];
	memset(f, 0, sizeof(*f));
	f->v = v;
	f->anchor = anchor != NULL ? xstrdup((const char *)anchor) : NULL;
	f->pathlen = y->pathlen;
	f->parentlen = parentlen;
	f->size = 1;
	f->height = 1;
	return 0;
}

static int
yj_end(struct yj *y, int line)
{
	struct yj_frame f = y->stack[--y->depth];

	yj_path_set(y, f.parentlen);
	if (f.anchor != NULL &&
	    yj_anchor_add(y, f.anchor, f.v, f.size, f.bytes, f.height, line) ==
	        -1) {
		free(f.anchor);
		free(f.key);
		json_decref(f.v);
		return -1;
	}
	free(f.anchor);
	free(f.key); /* only set if the parser let a mapping end after a key */
	return yj_put(y, f.v, f.size, f.bytes, f.height, line);
}

static void
yj_doc_start(struct yj *y, int line)
{
	y->docindex++;
	y->indoc = true;
	y->docline = line;
	json_decref(y->root);
	y->root = NULL;
	json_decref(y->lines);
	y->lines = json_object();
	yj_path_set(y, 0);
	json_object_set_new(y->lines, "", json_integer(line));
}

static void
yj_doc_end(struct yj *y)
{
	struct yamljson_doc *d;
	struct yamljson *out = y->out;

	if (y->root != NULL && !json_is_null(y->root)) {
		out->docs = xreallocarray(
		    out->docs, out->ndocs + 1, sizeof(*out->docs));
		d = &out->docs[out->ndocs++];
		d->value = y->root;
		d->lines = y->lines;
		d->index = y->docindex;
		d->line = y->docline;
	} else {
		json_decref(y->root);
		json_decref(y->lines);
	}
	y->root = NULL;
	y->lines = NULL;
	y->indoc = false;
	yj_anchors_clear(y);
}

static int
yj_event(struct yj *y, const yaml_event_t *ev)
{
	int line = ev->start_mark.line + 1;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		yj_doc_start(y, line);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		yj_doc_end(y);
		return 0;
	case YAML_SCALAR_EVENT:
		return yj_scalar(y, ev);
	case YAML_ALIAS_EVENT:
		return yj_alias(y, ev);
	case YAML_SEQUENCE_START_EVENT:
		return yj_start(
		    y, json_array(), ev->data.sequence_start.anchor, line);
	case YAML_MAPPING_START_EVENT:
		return yj_start(
		    y, json_object(), ev->data.mapping_start.anchor, line);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return yj_end(y, line);
	default:
		return 0;
	}
}

static int
yj_parser_err(struct yj *y, const yaml_parser_t *p)
{
	if (p->error == YAML_READER_ERROR)
		return yj_err(y, (int)p->mark.line + 1, "%s at byte %zu",
		    p->problem != NULL ? p->problem : "unreadable input",
		    p->problem_offset);
	if (p->error == YAML_MEMORY_ERROR)
		fatalx("yaml: out of memory");
	if (p->context != NULL)
		return yj_err(y, (int)p->problem_mark.line + 1, "%s (%s)",
		    p->problem != NULL ? p->problem : "syntax error",
		    p->context);
	return yj_err(y, (int)p->problem_mark.line + 1, "%s",
	    p->problem != NULL ? p->problem : "syntax error");
}

static void
yj_clean(struct yj *y)
{
	while (y->depth > 0) {
		struct yj_frame *f = &y->stack[--y->depth];
		json_decref(f->v);
		free(f->anchor);
		free(f->key);
	}
	yj_anchors_clear(y);
	json_decref(y->root);
	json_decref(y->lines);
	free(y->path);
}

/*
 * What aliases may copy, in bytes: a multiple of the input, since a real
 * file's anchors (shared labels, say) are a small part of it, but at least
 * YAMLJSON_MIN_EXPANDED so that a short file may still alias freely, and
 * never more than YAMLJSON_MAX_EXPANDED however large the file.
 */
static size_t
yj_max_expanded(size_t len)
{
	if (len > YAMLJSON_MAX_EXPANDED / YAMLJSON_EXPAND_FACTOR)
		return YAMLJSON_MAX_EXPANDED;
	if (len * YAMLJSON_EXPAND_FACTOR < YAMLJSON_MIN_EXPANDED)
		return YAMLJSON_MIN_EXPANDED;
	return len * YAMLJSON_EXPAND_FACTOR;
}

struct yamljson *
yamljson_parse(
    const char *buf, size_t len, const char *name, char *err, size_t errlen)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct yj y;
	bool done = false;
	int rc = 0;

	memset(&y, 0, sizeof(y));
	y.name = name;
	y.err = err;
	y.errlen = errlen;
	y.out = xcalloc(1, sizeof(*y.out));
	y.out->name = xstrdup(name);
	y.max_bytes = yj_max_expanded(len);
	y.pathcap = 64;
	y.path = xmalloc(y.pathcap);
	yj_path_set(&y, 0);

	if (!yaml_parser_initialize(&p))
		fatalx("yaml_parser_initialize");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = yj_parser_err(&y, &p);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = yj_event(&y, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	yj_clean(&y);
	if (rc == -1) {
		yamljson_free(y.out);
		return NULL;
	}
	return y.out;
}

struct yamljson *
yamljson_load(const char *path, char *err, size_t errlen)
{
	struct yamljson *yj;
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f;
	int saved;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		buf = xrealloc(buf, len + 65536);
		n = fread(buf + len, 1, 65536, f);
		len += n;
		if (n == 0 || len > YJ_MAX_FILE)
			break;
	}
	saved = errno;
	if (ferror(f) || len > YJ_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path,
		    len > YJ_MAX_FILE ? "file too large" : strerror(saved));
		if (f != stdin)
			fclose(f);
		free(buf);
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	yj = yamljson_parse(buf, len, path, err, errlen);
	free(buf);
	return yj;
}

void
yamljson_free(struct yamljson *yj)
{
	size_t i;

	if (yj == NULL)
		return;
	for (i = 0; i < yj->ndocs; i++) {
		json_decref(yj->docs[i].value);
		json_decref(yj->docs[i].lines);
	}
	free(yj->docs);
	free(yj->name);
	free(yj);
}

int
yamljson_line(const struct yamljson_doc *d, const char *path)
{
	char *p = xstrdup(path), *cut;
	json_t *l;
	int line = d->line;

	for (;;) {
		if ((l = json_object_get(d->lines, p)) != NULL) {
			line = json_integer_value(l);
			break;
		}
		if (*p == '\0')
			break;
		cut = strrchr(p, '.');
		if (strrchr(p, '[') > cut)
			cut = strrchr(p, '[');
		if (cut == NULL)
			cut = p;
		*cut = '\0';
	}
	free(p);
	return line;
}

/* ---- scalar resolution ---- */

static bool
yj_one_of(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* decimal, 0x hex, 0o or leading-zero octal, with a sign; -1 if not */
static int
yj_int(const char *s, json_int_t *out)
{
	unsigned long long v = 0, limit;
	const char *p = s;
	bool neg = false;
	int base = 10, d;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && p[1] == 'o') {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && p[1] != '\0') {
		base = 8;
		p++;
	}
	if (*p == '\0')
		return -1;
	limit = neg ? (unsigned long long)INT64_MAX + 1 : INT64_MAX;
	for (; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -1;
		if (d >= base || v > (limit - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = neg ? (json_int_t)(0 - v) : (json_int_t)v;
	return 0;
}

static const char *
yj_digits(const char *p)
{
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool
yj_is_real(const char *s)
{
	const char *p = s, *q;

	if (*p == '-' || *p == '+')
		p++;
	if (*p == '.') {
		q = yj_digits(p + 1);
		if (q == p + 1)
			return false;
		p = q;
	} else {
		q = yj_digits(p);
		if (q == p)
			return false;
		p = q;
		if (*p == '.')
			p = yj_digits(p + 1);
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		q = yj_digits(p);
		if (q == p)
			return false;
		p = q;
	}
	return *p == '\0';
}

json_t *
yamljson_resolve(const char *s)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	static const char *const yes[] = {
	    "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
	static const char *const no[] = {
	    "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
	json_int_t i;
	double d;

	if (yj_one_of(s, nulls, sizeof(nulls) / sizeof(nulls[0])))
		return json_null();
	if (yj_one_of(s, yes, sizeof(yes) / sizeof(yes[0])))
		return json_true();
	if (yj_one_of(s, no, sizeof(no) / sizeof(no[0])))
		return json_false();
	if (yj_int(s, &i) == 0)
		return json_integer(i);
	if (yj_is_real(s)) {
		d = strtod(s, NULL);
		if (isfinite(d))
			return json_real(d);
	}
	return json_string(s);
}

/* ---- emitter ---- */

/*
 * Plain strings that other YAML 1.1 readers type although yamljson_resolve
 * leaves them strings, so the emitter quotes them too: what `get -o yaml`
 * prints must read back as the same strings in calicoctl (go-yaml v2),
 * kubectl and PyYAML, not only here.  The patterns are PyYAML's resolver
 * (the YAML 1.1 types: floats with '_', sexagesimal "1:20", .inf, .nan,
 * 0b binary, timestamps, merge "<<", value "=") and go-yaml v2's: y/Y/n/N
 * are booleans, and a scalar starting with a digit or sign is a number
 * when, with every '_' removed, strconv parses it (older go-yaml took any
 * Go float, hex floats and "+Inf" too), or a timestamp with one-digit
 * month, day or time fields.  The YAML 1.1 spec's own float pattern also
 * takes "192.0.2.1"; no reader does, so addresses stay plain.  Every such
 * scalar starts with one of YJ_TYPED_FIRST (the other bools and the nulls
 * are yamljson_resolve's already), so most strings skip the patterns.
 */
#define YJ_TYPED_FIRST "0123456789+-.yYnN<="

static const struct {
	const char *re; /* POSIX ERE */
	bool strip; /* matched with every '_' removed (go-yaml) */
} yj_typed[] = {
    {"^(y|Y|n|N|<<|=)$", false},
    /* PyYAML float */
    {"^([-+]?[0-9][0-9_]*\\.[0-9_]*([eE][-+][0-9]+)?"
     "|\\.[0-9][0-9_]*([eE][-+][0-9]+)?"
     "|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*"
     "|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
        false},
    /* PyYAML int */
    {"^([-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)"
     "|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
        false},
    /* PyYAML timestamp, with go-yaml's one-digit fields */
    {"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{1,2}:"
     "[0-9]{1,2}(\\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?$",
        false},
    /* go-yaml: strconv.ParseInt(s, 0, 64), ParseFloat */
    {"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$", true},
    {"^[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?$", true},
    {"^[-+]?0[xX]([0-9a-fA-F]+(\\.[0-9a-fA-F]*)?|\\.[0-9a-fA-F]+)"
     "[pP][-+]?[0-9]+$",
        true},
    {"^[-+]([iI][nN][fF]|[iI][nN][fF][iI][nN][iI][tT][yY])$", true},
};

#define YJ_NTYPED (sizeof(yj_typed) / sizeof(yj_typed[0]))

struct yj_out {
	char *buf;
	size_t len, cap;
};

/* one yamljson_emit() */
struct yj_emitter {
	yaml_emitter_t e;
	struct yj_out o;
	int flags;
	regex_t typed[YJ_NTYPED];
};

static int
yj_write(void *arg, unsigned char *data, size_t n)
{
	struct yj_out *o = arg;

	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->buf = xrealloc(o->buf, o->cap);
	}
	memcpy(o->buf + o->len, data, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 1;
}

static void
yj_emit(struct yj_emitter *em, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(&em->e, ev))
		fatalx("yaml emitter: %s",
		    em->e.problem != NULL ? em->e.problem : "failed");
}

/* whether some YAML 1.1 reader takes the plain scalar s for a non-string */
static bool
yj_typed11(const struct yj_emitter *em, const char *s)
{
	char *stripped, *d;
	const char *p;
	bool typed = false;
	size_t i;

	if (*s == '\0' || strchr(YJ_TYPED_FIRST, *s) == NULL)
		return false;
	stripped = xstrdup(s);
	for (p = s, d = stripped; *p != '\0'; p++)
		if (*p != '_')
			*d++ = *p;
	*d = '\0';
	for (i = 0; i < YJ_NTYPED && !typed; i++) {
		if (yj_typed[i].strip && strchr("0123456789+-", *s) == NULL)
			continue;
		typed = regexec(&em->typed[i], yj_typed[i].strip ? stripped : s,
		            0, NULL, 0) == 0;
	}
	free(stripped);
	return typed;
}

static void
yj_emit_scalar(struct yj_emitter *em, const char *s, size_t len, bool text)
{
	yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
	yaml_event_t ev;
	json_t *r;

	if (text) {
		/* a string that would read back as another type is quoted */
		r = yamljson_resolve(s);
		style =
		    json_is_string(r) && strlen(s) == len && !yj_typed11(em, s)
		    ? YAML_ANY_SCALAR_STYLE
		    : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		json_decref(r);
	}
	if (!yaml_scalar_event_initialize(
	        &ev, NULL, NULL, (yaml_char_t *)s, (int)len, 1, 1, style))
		fatalx("yaml_scalar_event_initialize");
	yj_emit(em, &ev);
}

static int
yj_keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
yj_emit_value(struct yj_emitter *em, const json_t *v)
{
	yaml_event_t ev;
	const char *key, **keys;
	size_t i, n;
	char buf[64];
	json_t *x;
	char *s;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		n = json_object_size(v);
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		        n == 0 ? YAML_FLOW_MAPPING_STYLE
		               : YAML_BLOCK_MAPPING_STYLE))
			fatalx("yaml_mapping_start_event_initialize");
		yj_emit(em, &ev);
		keys = xcalloc(n + 1, sizeof(*keys));
		i = 0;
		json_object_foreach((json_t *)v, key, x) keys[i++] = key;
		if (em->flags & YAMLJSON_SORT_KEYS)
			qsort(keys, n, sizeof(*keys), yj_keycmp);
		for (i = 0; i < n; i++) {
			yj_emit_scalar(em, keys[i], strlen(keys[i]), true);
			yj_emit_value(em, json_object_get(v, keys[i]));
		}
		free(keys);
		yaml_mapping_end_event_initialize(&ev);
		yj_emit(em, &ev);
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		        n == 0 ? YAML_FLOW_SEQUENCE_STYLE
		               : YAML_BLOCK_SEQUENCE_STYLE))
			fatalx("yaml_sequence_start_event_initialize");
		yj_emit(em, &ev);
		for (i = 0; i < n; i++)
			yj_emit_value(em, json_array_get(v, i));
		yaml_sequence_end_event_initialize(&ev);
		yj_emit(em, &ev);
		break;
	case JSON_STRING:
		yj_emit_scalar(
		    em, json_string_value(v), json_string_length(v), true);
		break;
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		yj_emit_scalar(em, buf, strlen(buf), false);
		break;
	case JSON_REAL:
		if ((s = json_dumps(v, JSON_ENCODE_ANY)) == NULL)
			fatalx("json_dumps");
		yj_emit_scalar(em, s, strlen(s), false);
		free(s);
		break;
	case JSON_TRUE:
		yj_emit_scalar(em, "true", 4, false);
		break;
	case JSON_FALSE:
		yj_emit_scalar(em, "false", 5, false);
		break;
	case JSON_NULL:
		yj_emit_scalar(em, "null", 4, false);
		break;
	}
}

char *
yamljson_emit(const json_t *v, int flags)
{
	struct yj_emitter em;
	yaml_event_t ev;
	size_t i;

	memset(&em, 0, sizeof(em));
	em.flags = flags;
	for (i = 0; i < YJ_NTYPED; i++)
		if (regcomp(&em.typed[i], yj_typed[i].re,
		        REG_EXTENDED | REG_NOSUB) != 0)
			fatalx("yamljson: bad pattern %zu", i);
	if (!yaml_emitter_initialize(&em.e))
		fatalx("yaml_emitter_initialize");
	yaml_emitter_set_output(&em.e, yj_write, &em.o);
	yaml_emitter_set_unicode(&em.e, 1);
	yaml_emitter_set_indent(&em.e, 2);
	yaml_emitter_set_width(&em.e, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	yj_emit(&em, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	yj_emit(&em, &ev);
	yj_emit_value(&em, v);
	yaml_document_end_event_initialize(&ev, 1);
	yj_emit(&em, &ev);
	yaml_stream_end_event_initialize(&ev);
	yj_emit(&em, &ev);
	yaml_emitter_delete(&em.e);
	for (i = 0; i < YJ_NTYPED; i++)
		regfree(&em.typed[i]);
	if (em.o.buf == NULL)
		em.o.buf = xstrdup("");
	return em.o.buf;
}
