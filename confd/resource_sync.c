/*
 * One render of a template resource (confd.h's confd_resource_process),
 * as confd's TemplateResource.process(): select the keys into a memkv
 * store, execute the template (read from disk every time) with confd's
 * functions and a nil dot, compare with dest (contents, mode, owner and
 * group, confd's sameConfig), stage the output beside dest, run check_cmd
 * on the stage, rename it over dest and run reload_cmd.
 *
 * Where this differs from confd, on purpose:
 *  - output equal to dest is found by comparing in memory, before staging
 *    (confd stages and then compares): nothing is created when nothing
 *    changed, unless keep_stage asks for the stage file;
 *  - noop renders, compares and runs check_cmd (confd's -noop skips the
 *    check); it writes and reloads nothing and says CONFD_UPDATED with
 *    "noop: ..." in err when dest would change;
 *  - the stage file is fsync'd before the rename, and dest's directory
 *    after it;
 *  - check_cmd and reload_cmd have a timeout (opts->cmd_timeout_ms);
 *  - a missing directory of dest is made (mkdir -p, 0755; logged), so a
 *    fresh confdir needs no config/ of its own; noop makes none and says
 *    so;
 *  - the stage name has "_" for bytes a shell would split or expand
 *    (confd's {{.src}} goes into check_cmd unquoted).
 * As Calico's confd (not kelseyhightower's): a failing check_cmd while
 * dest does not exist yet writes dest anyway (bird.cfg is checked before
 * the bird_*.cfg it includes exist, on a first start); that is
 * CONFD_UPDATED with the check's failure in err, for the cycle's log.
 * Nothing is logged here above debug but a directory made: the caller
 * logs the outcome.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "confd/confd.h"
#include "confd/shcmd.h"
#include "confd/tmpl.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define SYNC_MAX_TEMPLATE (16 * 1024 * 1024)

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* The template, executed over the resource's keys: 0, or -1 with err. */
static int
render(struct confd_resource *r, const struct confd_kvs *all, struct tbuf *out,
    char *err, size_t errlen)
{
	struct confd_kvs sel = {0};
	const struct tmpl_func *funcs;
	struct tmpl *t;
	struct stat st;
	char *text;
	size_t nfuncs;
	ssize_t n;
	size_t len = 0;
	int fd, rc = -1;

	if ((fd = open(r->src, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(
		    err, errlen, "template %s: %s", r->src, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SYNC_MAX_TEMPLATE) {
		snprintf(err, errlen, "template %s: %s", r->src,
		    S_ISREG(st.st_mode) ? "too large" : "not a file");
		close(fd);
		return -1;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';

	if (all != NULL)
		confd_kvs_select(&sel, all, r->prefix, r->keys, r->nkeys);
	t = tmpl_new(base_name(r->src));
	funcs = confd_funcs(&nfuncs);
	tmpl_funcs(t, funcs, nfuncs, &sel);
	if (tmpl_parse(t, text, len, err, errlen) == 0) {
		r->renders++;
		rc = tmpl_execute(t, NULL, NULL, out, err, errlen);
	}
	tmpl_free(t);
	confd_kvs_clean(&sel);
	free(text);
	return rc;
}

/* confd's sameConfig: contents, mode, owner and group. */
static bool
same_config(const char *dest, const struct stat *st, const struct tbuf *out,
    mode_t mode, uid_t uid, gid_t gid)
{
	char buf[8192];
	size_t off = 0;
	ssize_t n;
	int fd;
	bool same = true;

	if (!S_ISREG(st->st_mode) || (st->st_mode & 07777) != mode ||
	    st->st_uid != uid || st->st_gid != gid ||
	    (size_t)st->st_size != out->len)
		return false;
	if ((fd = open(dest, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n < 0) {
			same = false;
			break;
		}
		if (n == 0)
			break;
		if (off + (size_t)n > out->len ||
		    memcmp(out->p + off, buf, (size_t)n) != 0) {
			same = false;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	return same && off == out->len;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Mode, then owner when it differs (as confd's Chmod and Chown). */
static int
set_owner_mode(int fd, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;

	if (fchmod(fd, mode) == -1 || fstat(fd, &st) == -1)
		return -1;
	if ((st.st_uid != uid || st.st_gid != gid) &&
	    fchown(fd, uid, gid) == -1)
		return -1;
	return 0;
}

/*
 * Bytes of a stage name that a shell would split or expand made "_":
 * check_cmd gets {{.src}} unquoted (confd's templates do not quote it).
 */
static void
shell_safe(char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr(
		        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		        "0123456789._-+,:@%",
		        s[i]) == NULL ||
		    s[i] == '\0')
			s[i] = '_';
}

/*
 * dest's directory, made as mkdir -p does (0755, less the umask) when it
 * is missing and create is set: 0 when it is there now, 1 when it is
 * missing and create is not set, -1 with err.
 */
static int
make_dir(const char *dest, bool create, char *err, size_t errlen)
{
	struct stat st;
	char *dir = confd_path_dir(dest), *p, c;
	int rc = 0;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "cannot create directory %s: %s",
			    dir, strerror(ENOTDIR));
			rc = -1;
		}
		free(dir);
		return rc;
	}
	if (errno != ENOENT) {
		free(dir);
		return 0; /* stage() says what is wrong */
	}
	if (!create) {
		free(dir);
		return 1;
	}
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create directory %s: %s",
			    dir, strerror(errno));
			rc = -1;
		}
		*p = c;
		if (c == '\0' || rc == -1)
			break;
	}
	if (rc == 0)
		log_info("%s: created directory %s", dest, dir);
	free(dir);
	return rc;
}

/*
 * The output in a new file beside dest, named as Go's ioutil.TempFile(
 * dir(dest), "."+base(dest)) names it: the prefix and nine digits.
 */
static char *
stage(const char *dest, const struct tbuf *out, mode_t mode, uid_t uid,
    gid_t gid, char *err, size_t errlen)
{
	static unsigned int seq;
	const char *base = base_name(dest);
	struct timespec ts;
	unsigned int rnd;
	char *path;
	int fd = -1, tries;

	clock_gettime(CLOCK_REALTIME, &ts);
	rnd = (unsigned int)ts.tv_nsec ^ ((unsigned int)getpid() << 16) ^
	    (++seq * 2654435761u);
	for (tries = 0; tries < 100; tries++) {
		rnd = rnd * 1664525u + 1013904223u;
		xasprintf(&path, "%.*s.%s%09u", (int)(base - dest), dest, base,
		    rnd % 1000000000u);
		shell_safe(path + (base - dest) + 1, strlen(base));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
		free(path);
		path = NULL;
	}
	if (fd == -1) {
		snprintf(
		    err, errlen, "cannot stage %s: %s", dest, strerror(errno));
		free(path);
		return NULL;
	}
	if (set_owner_mode(fd, mode, uid, gid) == -1 ||
	    write_all(fd, out->p, out->len) == -1 || fsync(fd) == -1) {
		snprintf(err, errlen, "cannot stage %s: %s: %s", dest, path,
		    strerror(errno));
		close(fd);
		unlink(path);
		free(path);
		return NULL;
	}
	if (close(fd) == -1) {
		snprintf(err, errlen, "cannot stage %s: %s: %s", dest, path,
		    strerror(errno));
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

/* Appends ": " and the command's output (escaped) when there is any. */
static void
add_output(char *err, size_t errlen, const char *output, size_t len)
{
	size_t n = strlen(err);

	while (len > 0 && (output[len - 1] == '\n' || output[len - 1] == ' '))
		len--;
	if (len == 0 || n + 3 > errlen)
		return;
	memcpy(err + n, ": ", 3);
	shcmd_escape(err, errlen, output, len);
}

/* check_cmd as a template ({{.src}} = the stage), run: 0 or -1 with err. */
static int
check(const struct confd_resource *r, const char *staged,
    const struct confd_opts *opts, char *err, size_t errlen)
{
	struct tbuf cmd = {0};
	struct tval *dot;
	struct tmpl *t;
	const char *line;
	char why[256], *output;
	size_t outlen;
	int rc;

	t = tmpl_new("checkcmd");
	dot = tval_map();
	tval_map_set(dot, "src", tval_str(staged));
	rc = tmpl_parse(t, r->check_cmd, strlen(r->check_cmd), err, errlen);
	if (rc == 0)
		rc = tmpl_execute(t, NULL, dot, &cmd, err, errlen);
	tval_unref(dot);
	tmpl_free(t);
	if (rc == -1) {
		tbuf_free(&cmd);
		return -1;
	}
	line = cmd.p != NULL ? cmd.p : "";
	log_debug("%s: running check_cmd: %s", r->dest, line);
	rc = shcmd_run(
	    line, opts->cmd_timeout_ms, &output, &outlen, why, sizeof(why));
	if (rc == -1) {
		snprintf(err, errlen, "check_cmd \"%s\" failed: %s", line, why);
		add_output(err, errlen, output, outlen);
	} else if (outlen > 0)
		log_debug("%s: check_cmd said: %s", r->dest, output);
	free(output);
	tbuf_free(&cmd);
	return rc;
}

static int
reload(const struct confd_resource *r, const struct confd_opts *opts, char *err,
    size_t errlen)
{
	char why[256], *output;
	size_t outlen;
	int rc;

	log_debug("%s: running reload_cmd: %s", r->dest, r->reload_cmd);
	rc = shcmd_run(r->reload_cmd, opts->cmd_timeout_ms, &output, &outlen,
	    why, sizeof(why));
	if (rc == -1) {
		snprintf(err, errlen, "reload_cmd \"%s\" failed: %s",
		    r->reload_cmd, why);
		add_output(err, errlen, output, outlen);
	} else if (outlen > 0)
		log_debug("%s: reload_cmd said: %s", r->dest, output);
	free(output);
	return rc;
}

/*
 * confd's fallback when dest is a bind mount (rename gives EBUSY): write
 * the contents in place.
 */
static int
write_in_place(
    const char *dest, const struct tbuf *out, mode_t mode, uid_t uid, gid_t gid)
{
	int fd, rc;

	if ((fd = open(dest, O_WRONLY | O_TRUNC | O_CLOEXEC)) == -1)
		return -1;
	rc = set_owner_mode(fd, mode, uid, gid);
	if (rc == 0)
		rc = write_all(fd, out->p, out->len);
	if (rc == 0)
		rc = fsync(fd);
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

static void
sync_dir(const char *dest)
{
	const char *base = base_name(dest);
	char *dir;
	int fd;

	dir = base == dest     ? xstrdup(".")
	    : base == dest + 1 ? xstrdup("/")
	                       : xstrndup(dest, (size_t)(base - dest - 1));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

static enum confd_outcome
failed(struct confd_resource *r, const char *err)
{
	r->failures++;
	free(r->last_error);
	r->last_error = xstrdup(err);
	return CONFD_FAILED;
}

enum confd_outcome
confd_resource_process(struct confd_resource *r, const struct confd_kvs *all,
    const struct confd_opts *opts, char *err, size_t errlen)
{
	struct tbuf out = {0};
	struct stat st;
	enum confd_outcome rc = CONFD_FAILED;
	bool exists, same;
	char *staged = NULL, *dir, note[CONFD_ERRLEN] = "";
	mode_t mode;
	uid_t uid;
	gid_t gid;

	err[0] = '\0';
	uid = r->uid == (uid_t)-1 ? geteuid() : r->uid;
	gid = r->gid == (gid_t)-1 ? getegid() : r->gid;
	if (stat(r->dest, &st) == 0)
		exists = true;
	else if (errno == ENOENT)
		exists = false;
	else {
		snprintf(err, errlen, "%s: %s", r->dest, strerror(errno));
		return failed(r, err);
	}
	/* confd's setFileMode: unset keeps dest's, else 0644 */
	mode = r->mode != 0 ? r->mode : exists ? st.st_mode & 07777 : 0644;

	if (render(r, all, &out, err, errlen) == -1)
		goto fail;
	same = exists && same_config(r->dest, &st, &out, mode, uid, gid);
	if (same && !opts->keep_stage) {
		tbuf_free(&out);
		return CONFD_UNCHANGED;
	}
	if (!exists) {
		switch (make_dir(r->dest, !opts->noop, err, errlen)) {
		case -1:
			goto fail;
		case 1:
			dir = confd_path_dir(r->dest);
			snprintf(err, errlen,
			    "noop: %s out of sync, not modified (no directory "
			    "%s: not checked)",
			    r->dest, dir);
			free(dir);
			rc = CONFD_UPDATED;
			goto done;
		}
	}
	if ((staged = stage(r->dest, &out, mode, uid, gid, err, errlen)) ==
	    NULL)
		goto fail;
	if (same) {
		log_info("%s: keeping staged file %s", r->dest, staged);
		rc = CONFD_UNCHANGED;
		goto done;
	}
	if (r->check_cmd != NULL && check(r, staged, opts, err, errlen) == -1) {
		if (exists)
			goto fail;
		/* Calico's confd: a first dest is written all the same */
		snprintf(note, sizeof(note),
		    "%s; written anyway: %s did not exist", err, r->dest);
		err[0] = '\0';
	}
	if (opts->noop) {
		snprintf(
		    err, errlen, "noop: %s out of sync, not modified", r->dest);
		rc = CONFD_UPDATED;
		goto done;
	}
	if (rename(staged, r->dest) == -1) {
		if (errno != EBUSY ||
		    write_in_place(r->dest, &out, mode, uid, gid) == -1) {
			snprintf(err, errlen, "cannot replace %s: %s", r->dest,
			    strerror(errno));
			goto fail;
		}
	} else {
		free(staged);
		staged = NULL;
	}
	sync_dir(r->dest);
	r->writes++;
	if (r->reload_cmd != NULL) {
		r->reloads++;
		if (reload(r, opts, err, errlen) == -1)
			goto fail;
	}
	if (note[0] != '\0')
		snprintf(err, errlen, "%s", note);
	rc = CONFD_UPDATED;
	goto done;
fail:
	rc = failed(r, err);
done:
	if (staged != NULL) {
		if (opts->keep_stage && rc != CONFD_UNCHANGED)
			log_info("%s: keeping staged file %s", r->dest, staged);
		else if (!opts->keep_stage)
			unlink(staged);
	}
	free(staged);
	tbuf_free(&out);
	return rc;
}
