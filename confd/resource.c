/*
 * Template resources (confd.h): conf.d/NAME.toml files read into struct
 * confd_resource, as confd's resource/template (Calico's fork) reads them:
 * the [template] table's fields matched without case (BurntSushi's toml),
 * other tables and keys ignored (logged at debug), src under
 * <confdir>/templates, prefix given a leading "/", uid and gid -1 for the
 * process's, the first "//NODENAME" of prefix and of each key made
 * "/<nodename>".  resource_sync.c renders them.
 *
 * Ours, beyond confd: mode may be a TOML integer (420) as well as
 * confd's string ("0644", read as Go's ParseUint(s, 0, 32)); like confd
 * only its permission bits (0777) are used, and 0 means unset.  A
 * relative dest is taken under confdir.  dest is required.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "confd/confd.h"
#include "confd/shcmd.h"
#include "confd/tmpl.h"
#include "confd/toml.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define RESOURCE_MAX_TEMPLATE (16 * 1024 * 1024)
#define RESOURCE_MAX_DEPTH 16 /* directories under conf.d */

/* Reads a whole file of at most max bytes; -1 with errno set. */
static int
read_file(const char *path, size_t max, char **out, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return -1;
			}
			cap = cap ? cap * 2 : 4096;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		free(buf);
		errno = EFBIG;
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Calico's //NODENAME: the first one becomes "/<nodename>". */
static char *
expand_nodename(const char *s, const char *nodename)
{
	const char *at = strstr(s, "//NODENAME");
	char *out;

	if (at == NULL)
		return xstrdup(s);
	xasprintf(&out, "%.*s/%s%s", (int)(at - s), s, nodename,
	    at + strlen("//NODENAME"));
	return out;
}

/*
 * Go's strconv.ParseUint(s, 0, 32), as confd reads mode: 0x, 0o, 0b or a
 * leading 0 pick the base.  -1 when it is not a number.
 */
static int
parse_mode(const char *s, unsigned long *out)
{
	int base = 10;
	unsigned long v = 0;
	int d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
	} else if (s[0] == '0' && s[1] != '\0')
		base = 8;
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		v = v * (unsigned long)base + (unsigned long)d;
		if (v > UINT32_MAX)
			return -1;
	}
	*out = v;
	return 0;
}

enum field_kind { F_STRING, F_KEYS, F_MODE, F_ID };

static const struct field {
	const char *name;
	enum field_kind kind;
} fields[] = {
    {"src", F_STRING},
    {"dest", F_STRING},
    {"prefix", F_STRING},
    {"keys", F_KEYS},
    {"check_cmd", F_STRING},
    {"reload_cmd", F_STRING},
    {"mode", F_MODE},
    {"uid", F_ID},
    {"gid", F_ID},
};

struct loaded {
	const char *str[sizeof(fields) / sizeof(fields[0])];
	const struct toml_value *keys;
	unsigned long mode;
	int64_t uid, gid;
};

static int
load_field(const char *path, const struct toml_entry *e, size_t fi,
    struct loaded *l, char *err, size_t errlen)
{
	const struct toml_value *v = &e->v;
	const char *name = fields[fi].name;
	size_t i;

	switch (fields[fi].kind) {
	case F_STRING:
		if (v->type != TOML_STRING)
			goto type;
		if (strlen(v->s) != v->len)
			goto nul;
		l->str[fi] = v->s;
		return 0;
	case F_KEYS:
		if (v->type != TOML_ARRAY)
			goto type;
		for (i = 0; i < v->n; i++) {
			if (v->items[i].type != TOML_STRING) {
				snprintf(err, errlen,
				    "%s:%d: keys must be an array of strings, "
				    "not hold a%s %s",
				    path, v->items[i].line,
				    v->items[i].type == TOML_INT ||
				            v->items[i].type == TOML_ARRAY
				        ? "n"
				        : "",
				    toml_type_name(v->items[i].type));
				return -1;
			}
			if (strlen(v->items[i].s) != v->items[i].len)
				goto nul;
		}
		l->keys = v;
		return 0;
	case F_MODE:
		if (v->type == TOML_INT) {
			if (v->i < 0 || v->i > UINT32_MAX) {
				snprintf(err, errlen,
				    "%s:%d: mode %lld is out of range", path,
				    e->line, (long long)v->i);
				return -1;
			}
			l->mode = (unsigned long)v->i;
			return 0;
		}
		if (v->type != TOML_STRING)
			goto type;
		if (parse_mode(v->s, &l->mode) == -1) {
			snprintf(err, errlen,
			    "%s:%d: mode \"%s\" is not a number (\"0644\")",
			    path, e->line, v->s);
			return -1;
		}
		return 0;
	case F_ID:
		if (v->type != TOML_INT)
			goto type;
		if (v->i < -1 || v->i >= (int64_t)UINT32_MAX) {
			snprintf(err, errlen, "%s:%d: %s %lld is out of range",
			    path, e->line, name, (long long)v->i);
			return -1;
		}
		if (strcmp(name, "uid") == 0)
			l->uid = v->i;
		else
			l->gid = v->i;
		return 0;
	}
type:
	snprintf(err, errlen, "%s:%d: %s must be %s, not a%s %s", path, e->line,
	    name,
	    fields[fi].kind == F_KEYS       ? "an array of strings"
	        : fields[fi].kind == F_ID   ? "an integer"
	        : fields[fi].kind == F_MODE ? "a string (\"0644\")"
	                                    : "a string",
	    v->type == TOML_INT || v->type == TOML_ARRAY ? "n" : "",
	    toml_type_name(v->type));
	return -1;
nul:
	snprintf(
	    err, errlen, "%s:%d: %s holds a NUL byte", path, e->line, name);
	return -1;
}

static char *
join_under(const char *dir, const char *sub, const char *name)
{
	char *joined, *clean;

	if (sub != NULL)
		xasprintf(&joined, "%s/%s/%s", dir, sub, name);
	else if (name[0] == '/')
		joined = xstrdup(name);
	else
		xasprintf(&joined, "%s/%s", dir, name);
	clean = confd_path_clean(joined);
	free(joined);
	return clean;
}

int
confd_resource_load(const char *path, const struct confd_opts *opts,
    struct confd_resource *r, char *err, size_t errlen)
{
	struct toml_doc doc;
	struct loaded l;
	const struct toml_entry *e;
	const char *nodename, *confdir, *src, *dest, *prefix;
	char *text;
	size_t len, i, fi, tindex = 0;

	memset(r, 0, sizeof(*r));
	memset(&l, 0, sizeof(l));
	l.uid = l.gid = -1;
	if (read_file(path, TOML_MAX_INPUT, &text, &len) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (toml_parse(text, len, path, &doc, err, errlen) == -1) {
		free(text);
		return -1;
	}
	free(text);
	for (i = 1; i < doc.ntables; i++) {
		if (strcmp(doc.tables[i].name, "template") != 0) {
			log_debug("%s:%d: table [%s] ignored", path,
			    doc.tables[i].line, doc.tables[i].name);
			continue;
		}
		if (doc.tables[i].array) {
			snprintf(err, errlen,
			    "%s:%d: [[template]] must be a table: [template]",
			    path, doc.tables[i].line);
			goto fail;
		}
		tindex = i;
	}
	if (tindex == 0) {
		snprintf(err, errlen, "%s:1: no [template] table", path);
		goto fail;
	}
	for (i = 0; i < doc.nentries; i++) {
		e = &doc.entries[i];
		if (e->table != tindex) {
			if (e->table == 0)
				log_debug(
				    "%s:%d: %s outside [template] ignored",
				    path, e->line, e->key);
			continue;
		}
		/* BurntSushi's toml matches field names without case */
		for (fi = 0; fi < sizeof(fields) / sizeof(fields[0]); fi++)
			if (strcasecmp(e->key, fields[fi].name) == 0)
				break;
		if (fi == sizeof(fields) / sizeof(fields[0])) {
			log_debug("%s:%d: [template] %s ignored", path, e->line,
			    e->key);
			continue;
		}
		if (load_field(path, e, fi, &l, err, errlen) == -1)
			goto fail;
	}
	src = l.str[0];
	dest = l.str[1];
	prefix = l.str[2];
	if (src == NULL || *src == '\0' || dest == NULL || *dest == '\0') {
		snprintf(err, errlen, "%s:%d: [template] has no %s", path,
		    doc.tables[tindex].line,
		    src == NULL || *src == '\0' ? "src" : "dest");
		goto fail;
	}
	nodename = opts->nodename;
	if (nodename == NULL)
		nodename = getenv("NODENAME");
	if (nodename == NULL)
		nodename = "";
	confdir = opts->confdir != NULL ? opts->confdir : "/etc/calico/confd";

	r->toml = xstrdup(path);
	r->src = join_under(confdir, "templates", src);
	r->dest = join_under(confdir, NULL, dest);
	if (prefix == NULL || *prefix == '\0')
		r->prefix = xstrdup("");
	else {
		text = expand_nodename(prefix, nodename);
		if (text[0] != '/') {
			xasprintf(&r->prefix, "/%s", text);
			free(text);
		} else
			r->prefix = text;
	}
	if (l.keys != NULL && l.keys->n > 0) {
		r->nkeys = l.keys->n;
		r->keys = xcalloc(r->nkeys, sizeof(*r->keys));
		for (i = 0; i < r->nkeys; i++)
			r->keys[i] =
			    expand_nodename(l.keys->items[i].s, nodename);
	}
	if (l.str[4] != NULL && *l.str[4] != '\0')
		r->check_cmd = xstrdup(l.str[4]);
	if (l.str[5] != NULL && *l.str[5] != '\0')
		r->reload_cmd = xstrdup(l.str[5]);
	r->mode = (mode_t)(l.mode & 0777);
	r->uid = (uid_t)l.uid;
	r->gid = (gid_t)l.gid;
	toml_doc_clean(&doc);
	return 0;
fail:
	toml_doc_clean(&doc);
	return -1;
}

void
confd_resource_clean(struct confd_resource *r)
{
	size_t i;

	free(r->toml);
	free(r->src);
	free(r->dest);
	free(r->prefix);
	for (i = 0; i < r->nkeys; i++)
		free(r->keys[i]);
	free(r->keys);
	free(r->check_cmd);
	free(r->reload_cmd);
	free(r->last_error);
	memset(r, 0, sizeof(*r));
}

/* ---- conf.d ---- */

struct pathlist {
	char **v;
	size_t n;
};

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
ends_with_toml(const char *name)
{
	size_t n = strlen(name);

	return n >= 4 && strcmp(name + n - 4, "toml") == 0;
}

/*
 * confd's recursiveFindFiles(confdir/conf.d, "*toml"): every file whose
 * name ends in "toml", in the order of filepath.Walk (names sorted byte
 * by byte, a directory's contents where its name sorts).
 */
static int
find_toml(
    const char *dir, int depth, struct pathlist *out, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char **names = NULL, *path;
	size_t n = 0, i;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/%s", dir, names[i]);
		if (rc == 0 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (depth >= RESOURCE_MAX_DEPTH) {
				snprintf(err, errlen,
				    "%s: more than %d directories deep", path,
				    RESOURCE_MAX_DEPTH);
				rc = -1;
			} else
				rc = find_toml(
				    path, depth + 1, out, err, errlen);
			free(path);
		} else if (rc == 0 && ends_with_toml(names[i])) {
			out->v =
			    xreallocarray(out->v, out->n + 1, sizeof(*out->v));
			out->v[out->n++] = path;
		} else
			free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

int
confd_resources_load(const struct confd_opts *opts, struct confd_resource **out,
    size_t *nout, char *err, size_t errlen)
{
	struct pathlist paths = {0};
	struct confd_resource *res = NULL;
	const char *confdir;
	char *dir;
	size_t i, n = 0;
	int rc = -1;

	*out = NULL;
	*nout = 0;
	confdir = opts->confdir != NULL ? opts->confdir : "/etc/calico/confd";
	xasprintf(&dir, "%s/conf.d", confdir);
	if (find_toml(dir, 0, &paths, err, errlen) == -1)
		goto done;
	if (paths.n == 0) {
		snprintf(
		    err, errlen, "%s: no template resources (*.toml)", dir);
		goto done;
	}
	res = xcalloc(paths.n, sizeof(*res));
	for (i = 0; i < paths.n; i++) {
		log_debug("loading template resource %s", paths.v[i]);
		if (confd_resource_load(
		        paths.v[i], opts, &res[n], err, errlen) == -1)
			goto done;
		n++;
	}
	*out = res;
	*nout = n;
	res = NULL;
	rc = 0;
done:
	if (res != NULL) {
		for (i = 0; i < n; i++)
			confd_resource_clean(&res[i]);
		free(res);
	}
	for (i = 0; i < paths.n; i++)
		free(paths.v[i]);
	free(paths.v);
	free(dir);
	return rc;
}
