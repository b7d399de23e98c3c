/*
 * confd/resource.c and resource_sync.c: template resources in a temporary
 * confdir.  Loading (fields, types, mode forms, //NODENAME, relative dest,
 * conf.d order, the errors with their lines) and processing against fixed
 * key sets: a first render written with its mode, unchanged output neither
 * written nor reloaded (reload_cmd appends a line to a file: the lines are
 * counted), changed keys rewritten, a failing check_cmd, a template
 * syntax error, a missing key and a failing reload with what each leaves
 * behind, the stage file beside dest and gone afterwards, noop,
 * keep_stage, a check that times out, dest missing while the check fails;
 * dest's directory made when missing; what commands inherit (fds,
 * signals, environment); a hung reload_cmd's process group killed; the
 * stage name without spaces; a symlink dest; a failed rename; orphans
 * collected when we are a subreaper.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "confd/confd.h"
#include "lib/xmalloc.h"
#include "store/store.h"

#include "confdir_fixture.h"

/* The names in a directory of the confdir, sorted, joined with " ". */
static char *
listing(const char *rel)
{
	struct dirent **names;
	char *out = xcalloc(1, 4096);
	int n, i;

	n = scandir(path_of(rel), &names, NULL, alphasort);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
			if (out[0] != '\0')
				strcat(out, " ");
			strcat(out, name);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static void
assert_listing(const char *rel, const char *want)
{
	char *got = listing(rel);

	if (strcmp(got, want) != 0)
		fail_msg("%s/:\nwant: %s\n got: %s", rel, want, got);
	free(got);
}

static int
setup(void **state)
{
	char cmd[256];

	snprintf(dir, sizeof(dir), "/tmp/resource_test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/conf.d %s/templates %s/out",
	    dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
opts_init(struct confd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->confdir = dir;
	o->nodename = "node1";
	o->cmd_timeout_ms = 10000;
}

static void
load(const char *toml, struct confd_resource *r)
{
	struct confd_opts o;
	char err[CONFD_ERRLEN];

	opts_init(&o);
	put("conf.d/t.toml", toml);
	if (confd_resource_load(
	        path_of("conf.d/t.toml"), &o, r, err, sizeof(err)) == -1)
		fail_msg("%s", err);
}

static void
load_error(const char *toml, const char *want)
{
	struct confd_resource r;
	struct confd_opts o;
	char err[CONFD_ERRLEN], full[CONFD_ERRLEN];

	opts_init(&o);
	put("conf.d/t.toml", toml);
	if (confd_resource_load(
	        path_of("conf.d/t.toml"), &o, &r, err, sizeof(err)) == 0) {
		confd_resource_clean(&r);
		fail_msg("accepted: %s", toml);
	}
	snprintf(full, sizeof(full), "%s:%s", path_of("conf.d/t.toml"), want);
	if (strcmp(err, full) != 0)
		fail_msg("want: %s\n got: %s", full, err);
}

static void
test_load(void **state)
{
	struct confd_resource r;

	load("[template]\n"
	     "src = \"bird.cfg.template\"\n"
	     "dest = \"/etc/bird/bird.cfg\"\n"
	     "prefix = \"/calico/ipam/v2/host//NODENAME/ipv4/block\"\n"
	     "keys = [\"/\", \"/host//NODENAME\", \"//NODENAME//NODENAME\"]\n"
	     "check_cmd = \"bird -p -c {{.src}}\"\n"
	     "reload_cmd = \"pkill -HUP bird || true\"\n"
	     "mode = \"0640\"\n"
	     "uid = 0\n"
	     "gid = 42\n"
	     "unknown = 1\n"
	     "[other]\n"
	     "x = 1\n",
	    &r);
	assert_string_equal(r.toml, path_of("conf.d/t.toml"));
	assert_string_equal(r.src, path_of("templates/bird.cfg.template"));
	assert_string_equal(r.dest, "/etc/bird/bird.cfg");
	assert_string_equal(r.prefix, "/calico/ipam/v2/host/node1/ipv4/block");
	assert_int_equal(r.nkeys, 3);
	assert_string_equal(r.keys[0], "/");
	assert_string_equal(r.keys[1], "/host/node1");
	/* as Calico: the first occurrence only */
	assert_string_equal(r.keys[2], "/node1//NODENAME");
	assert_string_equal(r.check_cmd, "bird -p -c {{.src}}");
	assert_string_equal(r.reload_cmd, "pkill -HUP bird || true");
	assert_int_equal(r.mode, 0640);
	assert_int_equal(r.uid, 0);
	assert_int_equal(r.gid, 42);
	assert_int_equal(r.renders, 0);
	assert_null(r.last_error);
	confd_resource_clean(&r);

	/* defaults; a relative dest; a prefix without "/"; keys any case */
	load("[template]\nSRC = 'a'\nDest = \"out/../out/a.cfg\"\n"
	     "prefix = \"calico\"\n",
	    &r);
	assert_string_equal(r.dest, path_of("out/a.cfg"));
	assert_string_equal(r.prefix, "/calico");
	assert_int_equal(r.nkeys, 0);
	assert_null(r.keys);
	assert_null(r.check_cmd);
	assert_null(r.reload_cmd);
	assert_int_equal(r.mode, 0);
	assert_int_equal(r.uid, (uid_t)-1);
	assert_int_equal(r.gid, (gid_t)-1);
	confd_resource_clean(&r);
	load("[template]\nsrc = 'a'\ndest = '/x'\n", &r);
	assert_string_equal(r.prefix, "");
	confd_resource_clean(&r);

	/* mode: confd's string (Go's ParseUint base 0) or an integer */
	load("[template]\nsrc='a'\ndest='/x'\nmode = 420\n", &r);
	assert_int_equal(r.mode, 0644);
	confd_resource_clean(&r);
	load("[template]\nsrc='a'\ndest='/x'\nmode = \"0x1ed\"\n", &r);
	assert_int_equal(r.mode, 0755);
	confd_resource_clean(&r);
	load("[template]\nsrc='a'\ndest='/x'\nmode = \"0o600\"\n", &r);
	assert_int_equal(r.mode, 0600);
	confd_resource_clean(&r);
	load("[template]\nsrc='a'\ndest='/x'\nmode = \"0104755\"\n", &r);
	assert_int_equal(r.mode, 0755);
	confd_resource_clean(&r);
	load("[template]\nsrc='a'\ndest='/x'\nmode = \"420\"\n", &r);
	assert_int_equal(r.mode, 0644);
	confd_resource_clean(&r);
}

static void
test_load_errors(void **state)
{
	load_error("[template]\ndest = '/x'\n", "1: [template] has no src");
	load_error("# x\n[template]\nsrc = 'a'\n", "2: [template] has no dest");
	load_error(
	    "[template]\nsrc = ''\ndest='/x'\n", "1: [template] has no src");
	load_error("[other]\nsrc = 'a'\n", "1: no [template] table");
	load_error("[[template]]\nsrc = 'a'\n",
	    "1: [[template]] must be a table: [template]");
	load_error(
	    "[template]\nsrc = 1\n", "2: src must be a string, not an integer");
	load_error("[template]\nsrc = 'a'\ndest = '/x'\nkeys = '/a'\n",
	    "4: keys must be an array of strings, not a string");
	load_error("[template]\nsrc = 'a'\ndest = '/x'\nkeys = [\n'/a',\n1]\n",
	    "6: keys must be an array of strings, not hold an integer");
	load_error("[template]\nsrc = 'a'\ndest = '/x'\nmode = \"rw\"\n",
	    "4: mode \"rw\" is not a number (\"0644\")");
	load_error("[template]\nsrc = 'a'\ndest = '/x'\nmode = \"0689\"\n",
	    "4: mode \"0689\" is not a number (\"0644\")");
	load_error("[template]\nsrc = 'a'\ndest = '/x'\nmode = true\n",
	    "4: mode must be a string (\"0644\"), not a boolean");
	load_error("[template]\nsrc = 'a'\ndest = '/x'\nmode = -1\n",
	    "4: mode -1 is out of range");
	load_error("[template]\nsrc = 'a'\ndest = '/x'\nuid = \"0\"\n",
	    "4: uid must be an integer, not a string");
	load_error("[template]\nsrc = 'a'\ndest = '/x'\ngid = -2\n",
	    "4: gid -2 is out of range");
	load_error("[template]\nsrc = \"a\\u0000b\"\ndest = '/x'\n",
	    "2: src holds a NUL byte");
	load_error("[template]\nsrc = 'a'\nsrc = 'b'\n",
	    "3: duplicate key src (first at line 2)");
}

static void
test_load_dir(void **state)
{
	struct confd_resource *res;
	struct confd_opts o;
	char err[CONFD_ERRLEN], cmd[256];
	size_t n;

	opts_init(&o);
	unlink(path_of("conf.d/t.toml"));
	assert_int_equal(
	    confd_resources_load(&o, &res, &n, err, sizeof(err)), -1);
	assert_null(res);
	assert_int_equal(n, 0);
	snprintf(
	    cmd, sizeof(cmd), "%s/conf.d: no template resources (*.toml)", dir);
	assert_string_equal(err, cmd);

	/* confd's walk: names in byte order, subdirectories in place */
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/conf.d/b.d", dir);
	assert_int_equal(system(cmd), 0);
	put("conf.d/bird_ipam.toml", "[template]\nsrc='2'\ndest='/2'\n");
	put("conf.d/bird.toml", "[template]\nsrc='1'\ndest='/1'\n");
	put("conf.d/b.d/x.toml", "[template]\nsrc='0'\ndest='/0'\n");
	put("conf.d/README", "not a resource\n");
	put("conf.d/.bird.toml123456789", "a stage file\n");
	assert_int_equal(
	    confd_resources_load(&o, &res, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(res[0].dest, "/0");
	assert_string_equal(res[1].dest, "/1");
	assert_string_equal(res[2].dest, "/2");
	while (n-- > 0)
		confd_resource_clean(&res[n]);
	free(res);

	/* one bad file: nothing is loaded */
	put("conf.d/bird_zz.toml", "[template]\nsrc='3'\n");
	assert_int_equal(
	    confd_resources_load(&o, &res, &n, err, sizeof(err)), -1);
	assert_null(res);
	snprintf(cmd, sizeof(cmd),
	    "%s/conf.d/bird_zz.toml:1: [template] has "
	    "no dest",
	    dir);
	assert_string_equal(err, cmd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s/conf.d/*", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- processing ---- */

static const char resource_toml[] =
    "[template]\n"
    "src = \"a.tmpl\"\n"
    "dest = \"out/a.cfg\"\n"
    "prefix = \"/calico/bgp/v1\"\n"
    "keys = [\"/global\", \"/host//NODENAME\"]\n"
    "mode = \"0640\"\n";

static const char resource_tmpl[] =
    "as {{getv \"/global/as_num\"}}\n"
    "ip {{getv \"/host/node1/ip_addr_v4\"}}\n"
    "{{range gets \"/global/peer_v4/*\"}}peer {{base .Key}}\n{{end}}";

static void
kvs_fill(struct confd_kvs *kvs, const char *asn)
{
	confd_kvs_set(kvs, "/calico/bgp/v1/global/as_num", asn);
	confd_kvs_set(kvs, "/calico/bgp/v1/global/peer_v4/192.0.2.9", "{}");
	confd_kvs_set(kvs, "/calico/bgp/v1/host/node1/ip_addr_v4", "192.0.2.1");
	confd_kvs_set(kvs, "/calico/bgp/v1/host/node2/ip_addr_v4", "192.0.2.2");
	confd_kvs_set(kvs, "/calico/other", "x");
}

/* A resource with check and reload commands writing into the confdir. */
static void
load_with(struct confd_resource *r, const char *check, const char *reload)
{
	char text[2048];

	snprintf(text, sizeof(text), "%scheck_cmd = '%s'\nreload_cmd = '%s'\n",
	    resource_toml, check, reload);
	load(text, r);
}

static enum confd_outcome
process(struct confd_resource *r, const struct confd_kvs *kvs,
    const struct confd_opts *o, char *err)
{
	return confd_resource_process(r, kvs, o, err, CONFD_ERRLEN);
}

static void
test_render_cycle(void **state)
{
	struct confd_resource r;
	struct confd_kvs kvs = {0};
	struct confd_opts o;
	struct stat st;
	char err[CONFD_ERRLEN], check[512], reload[512], *s;
	const char *base;

	opts_init(&o);
	put("templates/a.tmpl", resource_tmpl);
	snprintf(check, sizeof(check),
	    "echo {{.src}} >> %s/checked; grep -q \"^as \" {{.src}}", dir);
	snprintf(reload, sizeof(reload), "echo reload >> %s/reloads", dir);
	load_with(&r, check, reload);
	kvs_fill(&kvs, "64512");

	/* first render: written with its mode, checked, reloaded */
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	assert_string_equal(err, "");
	assert_file("out/a.cfg", "as 64512\nip 192.0.2.1\npeer 192.0.2.9\n");
	assert_int_equal(stat(path_of("out/a.cfg"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(lines("reloads"), 1);
	assert_int_equal(lines("checked"), 1);
	assert_listing("out", "a.cfg");
	assert_int_equal(r.renders, 1);
	assert_int_equal(r.writes, 1);
	assert_int_equal(r.reloads, 1);
	assert_int_equal(r.failures, 0);
	/* the check saw the stage file beside dest, named as confd's */
	s = get("checked");
	s[strlen(s) - 1] = '\0';
	base = strrchr(s, '/') + 1;
	assert_int_equal(base - s, strlen(path_of("out/")));
	assert_memory_equal(s, path_of("out/"), base - s);
	assert_int_equal(strlen(base), strlen(".a.cfg") + 9);
	assert_memory_equal(base, ".a.cfg", 6);
	assert_int_equal(strspn(base + 6, "0123456789"), 9);
	free(s);

	/* the same keys: nothing written, checked or reloaded */
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UNCHANGED);
	assert_int_equal(lines("reloads"), 1);
	assert_int_equal(lines("checked"), 1);
	assert_int_equal(r.renders, 2);
	assert_int_equal(r.writes, 1);
	assert_listing("out", "a.cfg");

	/* a key outside prefix/keys changes: still nothing */
	confd_kvs_set(&kvs, "/calico/bgp/v1/host/node2/ip_addr_v4", "x");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UNCHANGED);
	assert_int_equal(lines("reloads"), 1);

	/* a changed value: rewritten and reloaded */
	confd_kvs_set(&kvs, "/calico/bgp/v1/global/as_num", "65000");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	assert_file("out/a.cfg", "as 65000\nip 192.0.2.1\npeer 192.0.2.9\n");
	assert_int_equal(lines("reloads"), 2);
	assert_int_equal(lines("checked"), 2);
	assert_int_equal(r.writes, 2);
	assert_listing("out", "a.cfg");

	/* same contents but another mode: confd's sameConfig rewrites */
	assert_int_equal(chmod(path_of("out/a.cfg"), 0600), 0);
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	assert_int_equal(stat(path_of("out/a.cfg"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(lines("reloads"), 3);
	assert_null(r.last_error);
	confd_resource_clean(&r);
	confd_kvs_clean(&kvs);
}

static void
test_failures(void **state)
{
	struct confd_resource r;
	struct confd_kvs kvs = {0};
	struct confd_opts o;
	char err[CONFD_ERRLEN], check[512], reload[512], want[1024];
	const char *good = "as 64512\nip 192.0.2.1\npeer 192.0.2.9\n";

	opts_init(&o);
	unlink(path_of("reloads"));
	put("templates/a.tmpl", resource_tmpl);
	put("out/a.cfg", good);
	assert_int_equal(chmod(path_of("out/a.cfg"), 0640), 0);
	snprintf(reload, sizeof(reload), "echo reload >> %s/reloads", dir);
	kvs_fill(&kvs, "65001");

	/* a failing check: the checker's output, the old dest kept */
	load_with(
	    &r, "echo \"bird: {{.src}}:1:1 syntax error\" >&2; exit 3", reload);
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	assert_non_null(strstr(err, "check_cmd \"echo \"bird: "));
	assert_non_null(strstr(err, "failed: exit status 3: bird: "));
	assert_non_null(strstr(err, ":1:1 syntax error"));
	assert_string_equal(r.last_error, err);
	assert_file("out/a.cfg", good);
	assert_listing("out", "a.cfg");
	assert_int_equal(lines("reloads"), 0);
	assert_int_equal(r.failures, 1);
	assert_int_equal(r.writes, 0);

	/* keep_stage keeps the staged file the check refused */
	o.keep_stage = true;
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	assert_int_equal(r.failures, 2);
	{
		char *l = listing("out");

		assert_int_equal(strlen(l), strlen(".a.cfgNNNNNNNNN a.cfg"));
		assert_memory_equal(l, ".a.cfg", 6);
		free(l);
	}
	snprintf(check, sizeof(check), "rm -f %s/out/.a.cfg*", dir);
	assert_int_equal(system(check), 0);
	o.keep_stage = false;
	confd_resource_clean(&r);

	/* a check that outlives its timeout */
	o.cmd_timeout_ms = 200;
	load_with(&r, "sleep 5", reload);
	{
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_true(t1.tv_sec - t0.tv_sec < 3);
	}
	assert_string_equal(
	    err, "check_cmd \"sleep 5\" failed: timed out after 200 ms");
	assert_file("out/a.cfg", good);
	assert_listing("out", "a.cfg");
	o.cmd_timeout_ms = 10000;
	confd_resource_clean(&r);

	/* a template syntax error: template:NAME:LINE:COL, dest untouched */
	load_with(&r, "true", reload);
	put("templates/a.tmpl", "ok\n{{if}}\n");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	assert_non_null(strstr(err, "template: a.tmpl:2:"));
	assert_file("out/a.cfg", good);
	assert_listing("out", "a.cfg");

	/* a missing key */
	put("templates/a.tmpl", "x\n{{getv \"/global/nope\"}}\n");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	assert_non_null(strstr(err, "template: a.tmpl:2:"));
	assert_non_null(strstr(err, "key does not exist: /global/nope"));
	assert_file("out/a.cfg", good);
	assert_listing("out", "a.cfg");

	/* a missing template */
	assert_int_equal(unlink(path_of("templates/a.tmpl")), 0);
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	snprintf(want, sizeof(want), "template %s: No such file or directory",
	    path_of("templates/a.tmpl"));
	assert_string_equal(err, want);
	assert_int_equal(r.failures, 3);
	assert_int_equal(lines("reloads"), 0);
	confd_resource_clean(&r);

	/* a failing reload: dest replaced all the same */
	put("templates/a.tmpl", resource_tmpl);
	load_with(&r, "true", "echo cannot reload; exit 1");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	assert_string_equal(err,
	    "reload_cmd \"echo cannot reload; exit 1\" "
	    "failed: exit status 1: cannot reload");
	assert_file("out/a.cfg", "as 65001\nip 192.0.2.1\npeer 192.0.2.9\n");
	assert_listing("out", "a.cfg");
	assert_int_equal(r.writes, 1);
	assert_int_equal(r.reloads, 1);
	assert_int_equal(r.failures, 1);
	/* and the next render finds it in sync */
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UNCHANGED);
	assert_int_equal(r.reloads, 1);
	confd_resource_clean(&r);
	confd_kvs_clean(&kvs);
	snprintf(check, sizeof(check), "rm -f %s/out/* %s/reloads", dir, dir);
	assert_int_equal(system(check), 0);
}

static void
test_first_dest_and_noop(void **state)
{
	struct confd_resource r;
	struct confd_kvs kvs = {0};
	struct confd_opts o;
	char err[CONFD_ERRLEN], reload[512], want[1024];

	opts_init(&o);
	put("templates/a.tmpl", resource_tmpl);
	snprintf(reload, sizeof(reload), "echo reload >> %s/reloads", dir);
	kvs_fill(&kvs, "64512");

	/* noop: rendered and checked, nothing written */
	o.noop = true;
	load_with(&r, "true", reload);
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	snprintf(want, sizeof(want), "noop: %s out of sync, not modified",
	    path_of("out/a.cfg"));
	assert_string_equal(err, want);
	assert_listing("out", "");
	assert_int_equal(r.writes, 0);
	assert_int_equal(lines("reloads"), 0);
	confd_resource_clean(&r);
	load_with(&r, "exit 1", reload);
	put("out/a.cfg", "old\n");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	assert_string_equal(err, "check_cmd \"exit 1\" failed: exit status 1");
	assert_file("out/a.cfg", "old\n");
	assert_int_equal(unlink(path_of("out/a.cfg")), 0);
	o.noop = false;

	/* Calico's confd: a missing dest is written though the check fails */
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	snprintf(want, sizeof(want),
	    "check_cmd \"exit 1\" failed: exit status 1; written anyway: %s "
	    "did not exist",
	    path_of("out/a.cfg"));
	assert_string_equal(err, want);
	assert_file("out/a.cfg", "as 64512\nip 192.0.2.1\npeer 192.0.2.9\n");
	assert_int_equal(lines("reloads"), 1);
	assert_int_equal(r.failures, 1); /* the noop check above */
	/* once it exists, the same check keeps it */
	confd_kvs_set(&kvs, "/calico/bgp/v1/global/as_num", "1");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	assert_file("out/a.cfg", "as 64512\nip 192.0.2.1\npeer 192.0.2.9\n");
	assert_int_equal(lines("reloads"), 1);
	confd_resource_clean(&r);
	confd_kvs_clean(&kvs);
}

static void
test_mode_kept(void **state)
{
	struct confd_resource r;
	struct confd_kvs kvs = {0};
	struct confd_opts o;
	struct stat st;
	char err[CONFD_ERRLEN];

	opts_init(&o);
	put("templates/b.tmpl", "{{getv \"/v\"}}\n");
	/* no mode: a new dest gets 0644, an existing one keeps its mode */
	load("[template]\nsrc = 'b.tmpl'\ndest = 'out/b.cfg'\n"
	     "prefix = '/p'\nkeys = ['/']\n",
	    &r);
	confd_kvs_set(&kvs, "/p/v", "1");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	assert_int_equal(stat(path_of("out/b.cfg"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(chmod(path_of("out/b.cfg"), 0600), 0);
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UNCHANGED);
	confd_kvs_set(&kvs, "/p/v", "2");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	assert_file("out/b.cfg", "2\n");
	assert_int_equal(stat(path_of("out/b.cfg"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* no keys at all before the backend's first load */
	assert_int_equal(process(&r, NULL, &o, err), CONFD_FAILED);
	assert_non_null(strstr(err, "key does not exist: /v"));
	confd_resource_clean(&r);
	confd_kvs_clean(&kvs);
	assert_int_equal(unlink(path_of("out/b.cfg")), 0);
}

static void
test_nodename(void **state)
{
	struct confd_resource r;
	struct confd_kvs kvs = {0};
	struct confd_opts o;
	char err[CONFD_ERRLEN];

	opts_init(&o);
	o.nodename = "n2";
	put("templates/c.tmpl",
	    "{{range gets \"/block/*\"}}{{.Key}}={{.Value}}\n{{end}}");
	put("conf.d/t.toml",
	    "[template]\nsrc = 'c.tmpl'\ndest = 'out/c.cfg'\n"
	    "prefix = '/calico/ipam/v2/host//NODENAME/ipv4'\n"
	    "keys = ['/block']\n");
	assert_int_equal(confd_resource_load(path_of("conf.d/t.toml"), &o, &r,
	                     err, sizeof(err)),
	    0);
	assert_string_equal(r.prefix, "/calico/ipam/v2/host/n2/ipv4");
	confd_kvs_set(
	    &kvs, "/calico/ipam/v2/host/n1/ipv4/block/198.18.0.0-26", "{}");
	confd_kvs_set(&kvs, "/calico/ipam/v2/host/n2/ipv4/block/198.18.0.64-26",
	    "{\"state\":\"confirmed\"}");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	assert_file(
	    "out/c.cfg", "/block/198.18.0.64-26={\"state\":\"confirmed\"}\n");
	confd_resource_clean(&r);
	confd_kvs_clean(&kvs);
	assert_int_equal(unlink(path_of("out/c.cfg")), 0);
	assert_int_equal(unlink(path_of("conf.d/t.toml")), 0);
}

/* A process is gone (or a zombie: it has exited) within a second. */
static int
gone(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (i = 0; i < 100; i++) {
		if ((f = fopen(path, "r")) == NULL)
			return 1;
		buf[0] = '\0';
		fgets(buf, sizeof(buf), f);
		fclose(f);
		if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
		    p[2] == 'Z')
			return 1;
		usleep(10000);
	}
	return 0;
}

static void
test_dest_dir_created(void **state)
{
	struct confd_resource r;
	struct confd_kvs kvs = {0};
	struct confd_opts o;
	struct stat st;
	char err[CONFD_ERRLEN], want[1024];
	mode_t um = umask(022);

	opts_init(&o);
	put("templates/b.tmpl", "{{getv \"/v\"}}\n");
	load("[template]\nsrc = 'b.tmpl'\ndest = 'fresh/sub/b.cfg'\n"
	     "prefix = '/p'\nkeys = ['/']\ncheck_cmd = 'test -f {{.src}}'\n",
	    &r);
	confd_kvs_set(&kvs, "/p/v", "1");
	/* noop creates nothing: not checked, said so */
	o.noop = true;
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	snprintf(want, sizeof(want),
	    "noop: %s out of sync, not modified (no directory %s: not "
	    "checked)",
	    path_of("fresh/sub/b.cfg"), path_of("fresh/sub"));
	assert_string_equal(err, want);
	assert_int_equal(stat(path_of("fresh"), &st), -1);
	o.noop = false;
	/* mkdir -p, 0755, then staged, checked and written there */
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	assert_string_equal(err, "");
	assert_file("fresh/sub/b.cfg", "1\n");
	assert_int_equal(stat(path_of("fresh"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(path_of("fresh/sub"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_listing("fresh/sub", "b.cfg");
	confd_resource_clean(&r);
	/* a file where the directory should be: a clear error */
	load("[template]\nsrc = 'b.tmpl'\ndest = 'fresh/sub/b.cfg/x'\n"
	     "prefix = '/p'\nkeys = ['/']\n",
	    &r);
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	snprintf(want, sizeof(want), "%s: %s", path_of("fresh/sub/b.cfg/x"),
	    strerror(ENOTDIR));
	assert_string_equal(err, want);
	confd_resource_clean(&r);
	confd_kvs_clean(&kvs);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf %s/fresh", dir);
		assert_int_equal(system(cmd), 0);
	}
	umask(um);
}

/*
 * What a command inherits: only stdin, stdout and stderr (no fd of the
 * daemon's: etcd sockets, inotify), no blocked or ignored signal (but
 * glibc's own two, 32 and 33, that its posix_spawn leaves ignored), the
 * environment.
 */
static void
test_child_inherits(void **state)
{
	struct confd_resource r;
	struct confd_kvs kvs = {0};
	struct confd_opts o;
	sigset_t set, old;
	char err[CONFD_ERRLEN];
	int fd;

	opts_init(&o);
	put("templates/b.tmpl", "{{getv \"/v\"}}\n");
	fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC, as libcurl's */
	assert_int_equal(dup2(fd, 77), 77);
	close(fd);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	setenv("PM_RESOURCE_TEST", "a b", 1);
	load("[template]\nsrc = 'b.tmpl'\ndest = 'out/b.cfg'\n"
	     "prefix = '/p'\nkeys = ['/']\n"
	     /* builtins only: no fork to race with */
	     "check_cmd = 'while read k v; do case $k in SigBlk:) b=$v;; "
	     "SigIgn:) i=$v;; esac; done < /proc/$$/status; "
	     "echo \"$b $i $PM_RESOURCE_TEST\"; "
	     "test ! -e /proc/$$/fd/77 && test $b = 0000000000000000 && "
	     "case $i in 0000000000000000|0000000180000000) true;; "
	     "*) false;; esac && test \"$PM_RESOURCE_TEST\" = \"a b\"'\n",
	    &r);
	put("out/b.cfg", "old\n");
	confd_kvs_set(&kvs, "/p/v", "1");
	if (process(&r, &kvs, &o, err) != CONFD_UPDATED)
		fail_msg("%s", err);
	assert_file("out/b.cfg", "1\n");
	close(77);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);
	unsetenv("PM_RESOURCE_TEST");
	confd_resource_clean(&r);
	confd_kvs_clean(&kvs);
	assert_int_equal(unlink(path_of("out/b.cfg")), 0);
}

/* A hung reload_cmd: its whole process group killed at the timeout. */
static void
test_reload_timeout(void **state)
{
	struct confd_resource r;
	struct confd_kvs kvs = {0};
	struct confd_opts o;
	char err[CONFD_ERRLEN], text[1024], *s;
	pid_t bg;

	opts_init(&o);
	o.cmd_timeout_ms = 300;
	put("templates/b.tmpl", "{{getv \"/v\"}}\n");
	snprintf(text, sizeof(text),
	    "[template]\nsrc = 'b.tmpl'\ndest = 'out/b.cfg'\n"
	    "prefix = '/p'\nkeys = ['/']\n"
	    "reload_cmd = 'sleep 30 & echo $! > %s/bg; wait'\n",
	    dir);
	load(text, &r);
	confd_kvs_set(&kvs, "/p/v", "1");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	snprintf(text, sizeof(text),
	    "reload_cmd \"sleep 30 & echo $! > %s/bg; wait\" failed: timed "
	    "out after 300 ms",
	    dir);
	assert_string_equal(err, text);
	assert_file("out/b.cfg", "1\n");
	s = get("bg");
	assert_non_null(s);
	bg = (pid_t)atoi(s);
	free(s);
	assert_true(bg > 1);
	assert_true(gone(bg));
	confd_resource_clean(&r);
	confd_kvs_clean(&kvs);
	assert_int_equal(unlink(path_of("out/b.cfg")), 0);
	assert_int_equal(unlink(path_of("bg")), 0);
}

/*
 * The stage name has no space even when dest's has (confd puts {{.src}}
 * in check_cmd unquoted); a dest that is a symlink is replaced by a file
 * (confd's os.Rename), its target untouched; a failed rename leaves no
 * stage file.
 */
static void
test_stage_and_rename(void **state)
{
	struct confd_resource r;
	struct confd_kvs kvs = {0};
	struct confd_opts o;
	struct stat st;
	char err[CONFD_ERRLEN], want[1024];

	opts_init(&o);
	assert_int_equal(mkdir(path_of("st"), 0755), 0);
	put("templates/b.tmpl", "{{getv \"/v\"}}\n");
	load("[template]\nsrc = 'b.tmpl'\ndest = 'st/a b.cfg'\n"
	     "prefix = '/p'\nkeys = ['/']\n"
	     "check_cmd = 'test -f {{.src}}'\n",
	    &r);
	put("st/a b.cfg", "old\n");
	confd_kvs_set(&kvs, "/p/v", "1");
	if (process(&r, &kvs, &o, err) != CONFD_UPDATED)
		fail_msg("%s", err);
	assert_string_equal(err, "");
	assert_file("st/a b.cfg", "1\n");
	assert_listing("st", "a b.cfg");
	assert_int_equal(unlink(path_of("st/a b.cfg")), 0);
	confd_resource_clean(&r);

	/* a symlink dest */
	load("[template]\nsrc = 'b.tmpl'\ndest = 'st/l.cfg'\n"
	     "prefix = '/p'\nkeys = ['/']\n",
	    &r);
	put("st/real.cfg", "1\n");
	assert_int_equal(symlink("real.cfg", path_of("st/l.cfg")), 0);
	assert_int_equal(chmod(path_of("st/real.cfg"), 0644), 0);
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UNCHANGED);
	confd_kvs_set(&kvs, "/p/v", "2");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	assert_int_equal(lstat(path_of("st/l.cfg"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_file("st/l.cfg", "2\n");
	assert_file("st/real.cfg", "1\n");
	assert_int_equal(unlink(path_of("st/l.cfg")), 0);
	assert_int_equal(unlink(path_of("st/real.cfg")), 0);
	confd_resource_clean(&r);

	/* rename fails (dest a directory): no stage file left */
	load("[template]\nsrc = 'b.tmpl'\ndest = 'st/d.cfg'\n"
	     "prefix = '/p'\nkeys = ['/']\n",
	    &r);
	assert_int_equal(mkdir(path_of("st/d.cfg"), 0755), 0);
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_FAILED);
	snprintf(want, sizeof(want), "cannot replace %s: %s",
	    path_of("st/d.cfg"), strerror(EISDIR));
	assert_string_equal(err, want);
	assert_listing("st", "d.cfg");
	assert_int_equal(rmdir(path_of("st/d.cfg")), 0);
	assert_int_equal(rmdir(path_of("st")), 0);
	confd_resource_clean(&r);
	confd_kvs_clean(&kvs);
}

/*
 * As PID 1 or a subreaper, a command's orphans are collected: none left
 * a zombie once the next command has run.
 */
static void
test_orphans_reaped(void **state)
{
	struct confd_resource r;
	struct confd_kvs kvs = {0};
	struct confd_opts o;
	char err[CONFD_ERRLEN], text[1024], path[64], *s;
	struct stat st;
	pid_t bg;

	opts_init(&o);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	put("templates/b.tmpl", "{{getv \"/v\"}}\n");
	snprintf(text, sizeof(text),
	    "[template]\nsrc = 'b.tmpl'\ndest = 'out/b.cfg'\n"
	    "prefix = '/p'\nkeys = ['/']\n"
	    "reload_cmd = 'sleep 0.1 & echo $! > %s/bg'\n",
	    dir);
	load(text, &r);
	confd_kvs_set(&kvs, "/p/v", "1");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	s = get("bg");
	assert_non_null(s);
	bg = (pid_t)atoi(s);
	free(s);
	assert_true(bg > 1);
	usleep(300000); /* the orphan has exited: a zombie of ours */
	confd_kvs_set(&kvs, "/p/v", "2");
	assert_int_equal(process(&r, &kvs, &o, err), CONFD_UPDATED);
	snprintf(path, sizeof(path), "/proc/%d", (int)bg);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
	usleep(300000);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	confd_resource_clean(&r);
	confd_kvs_clean(&kvs);
	assert_int_equal(unlink(path_of("out/b.cfg")), 0);
	assert_int_equal(unlink(path_of("bg")), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_load_dir),
	    cmocka_unit_test(test_render_cycle),
	    cmocka_unit_test(test_failures),
	    cmocka_unit_test(test_first_dest_and_noop),
	    cmocka_unit_test(test_mode_kept),
	    cmocka_unit_test(test_nodename),
	    cmocka_unit_test(test_dest_dir_created),
	    cmocka_unit_test(test_child_inherits),
	    cmocka_unit_test(test_reload_timeout),
	    cmocka_unit_test(test_stage_and_rename),
	    cmocka_unit_test(test_orphans_reaped),
	};

	store_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
