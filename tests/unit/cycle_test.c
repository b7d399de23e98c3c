/*
 * confd/cycle.c: confd_run() over a fake backend (backend_int.h) whose
 * keys the test changes from timers on the same event loop.  -onetime
 * renders once after the first load and says how many resources failed;
 * in watch mode a burst of changes inside the debounce window makes one
 * render (reload_cmd appends a line to a file: the lines are counted),
 * SIGHUP loads a new conf.d file and renders it, a bad conf.d file on
 * SIGHUP keeps the resources loaded before, SIGTERM ends the loop with 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "confd/backend_int.h"
#include "confd/confd.h"
#include "lib/xmalloc.h"
#include "store/store.h"

#include "confdir_fixture.h"

/* ---- the fake backend ---- */

struct fake {
	struct confd_backend *b;
	struct event_base *base;
	bool load_on_start;
	int starts;
};

static int
fake_start(struct confd_backend *b, char *err, size_t errlen)
{
	struct fake *f = b->priv;

	f->starts++;
	if (f->load_on_start)
		confd_backend_changed(b);
	return 0;
}

static void
fake_free(struct confd_backend *b)
{
	/* priv is the test's */
}

static const struct confd_backend_ops fake_ops = {
    .type = "fake",
    .start = fake_start,
    .free = fake_free,
};

static struct confd_backend *
fake_new(struct fake *f, struct event_base *base)
{
	struct confd_backend *b = xcalloc(1, sizeof(*b));

	b->ops = &fake_ops;
	b->priv = f;
	snprintf(b->describe, sizeof(b->describe), "fake");
	f->b = b;
	f->base = base;
	return b;
}

/* A timer on the loop: fn(f) after ms. */
struct step {
	int ms;
	void (*fn)(struct fake *);
	struct fake *f;
	struct event *ev;
};

static void
step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct step *s = arg;

	s->fn(s->f);
}

static void
steps_add(struct step *steps, size_t n, struct event_base *base)
{
	struct timeval tv;
	size_t i;

	for (i = 0; i < n; i++) {
		steps[i].ev = evtimer_new(base, step_cb, &steps[i]);
		tv.tv_sec = steps[i].ms / 1000;
		tv.tv_usec = (steps[i].ms % 1000) * 1000;
		evtimer_add(steps[i].ev, &tv);
	}
}

static void
steps_free(struct step *steps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		event_free(steps[i].ev);
}

static void
set_as(struct fake *f, const char *as)
{
	confd_kvs_set(&f->b->kvs, "/calico/bgp/v1/global/as_num", as);
	confd_backend_changed(f->b);
}

/* ---- fixtures ---- */

static int
setup(void **state)
{
	char cmd[256];

	snprintf(dir, sizeof(dir), "/tmp/cycle_test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/conf.d %s/templates %s/out",
	    dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	put("templates/a.tmpl", "as {{getv \"/global/as_num\"}}\n");
	snprintf(cmd, sizeof(cmd),
	    "[template]\nsrc = 'a.tmpl'\ndest = 'out/a.cfg'\n"
	    "prefix = '/calico/bgp/v1'\nkeys = ['/global']\n"
	    "reload_cmd = 'echo x >> %s/reloads'\n",
	    dir);
	put("conf.d/a.toml", cmd);
	return 0;
}

static void
opts_init(struct confd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->confdir = dir;
	o->nodename = "node1";
}

static void
test_onetime(void **state)
{
	struct event_base *base = event_base_new();
	struct fake f = {.load_on_start = true};
	struct confd_backend *b = fake_new(&f, base);
	struct confd_opts o;
	char err[CONFD_ERRLEN];

	opts_init(&o);
	o.onetime = true;
	confd_kvs_set(&b->kvs, "/calico/bgp/v1/global/as_num", "64512");
	assert_int_equal(confd_run(&o, b, base, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(f.starts, 1);
	assert_file("out/a.cfg", "as 64512\n");
	assert_int_equal(lines("reloads"), 1);

	/* a second resource whose key is missing: -1, and why */
	put("templates/b.tmpl", "{{getv \"/nope\"}}\n");
	put("conf.d/b.toml",
	    "[template]\nsrc = 'b.tmpl'\ndest = 'out/b.cfg'\n"
	    "keys = ['/']\n");
	assert_int_equal(confd_run(&o, b, base, err, sizeof(err)), -1);
	assert_non_null(strstr(err,
	    "1 of 2 template resources failed (last: "
	    "template: b.tmpl:1:"));
	assert_non_null(strstr(err, "key does not exist: /nope)"));
	assert_int_equal(lines("reloads"), 1);
	assert_null(get("out/b.cfg"));
	assert_int_equal(unlink(path_of("conf.d/b.toml")), 0);

	/* no conf.d resources at all */
	assert_int_equal(
	    rename(path_of("conf.d/a.toml"), path_of("a.toml")), 0);
	assert_int_equal(confd_run(&o, b, base, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/conf.d: no template resources"));
	assert_int_equal(
	    rename(path_of("a.toml"), path_of("conf.d/a.toml")), 0);
	assert_int_equal(f.starts, 2);
	confd_backend_free(b);
	event_base_free(base);
	unlink(path_of("reloads"));
	unlink(path_of("out/a.cfg"));
}

static void
burst(struct fake *f)
{
	set_as(f, "1");
	set_as(f, "2");
}

static void
burst_end(struct fake *f)
{
	set_as(f, "3");
}

static void
first_load(struct fake *f)
{
	confd_kvs_set(&f->b->kvs, "/calico/bgp/v1/global/as_num", "64512");
	confd_backend_changed(f->b);
}

static void
check_first(struct fake *f)
{
	/* rendered right after the first load, no debounce */
	assert_file("out/a.cfg", "as 64512\n");
	assert_int_equal(lines("reloads"), 1);
}

static void
check_burst(struct fake *f)
{
	assert_file("out/a.cfg", "as 3\n");
	assert_int_equal(lines("reloads"), 2);
}

static void
same_again(struct fake *f)
{
	set_as(f, "3");
}

static void
add_resource(struct fake *f)
{
	put("templates/c.tmpl", "c {{getv \"/global/as_num\"}}\n");
	put("conf.d/c.toml",
	    "[template]\nsrc = 'c.tmpl'\ndest = 'out/c.cfg'\n"
	    "prefix = '/calico/bgp/v1'\nkeys = ['/global']\n");
	raise(SIGHUP);
}

static void
bad_resource(struct fake *f)
{
	put("conf.d/d.toml", "[template]\nsrc = 'x'\n");
	raise(SIGHUP);
}

static void
change_after_bad(struct fake *f)
{
	set_as(f, "4");
}

static void
stop(struct fake *f)
{
	raise(SIGTERM);
}

static void
test_watch(void **state)
{
	struct event_base *base = event_base_new();
	struct fake f = {.load_on_start = false};
	struct confd_backend *b = fake_new(&f, base);
	struct step steps[] = {
	    {.ms = 30, .fn = first_load},
	    {.ms = 200, .fn = check_first},
	    /* three changes within 50 ms: one render */
	    {.ms = 300, .fn = burst},
	    {.ms = 320, .fn = burst_end},
	    {.ms = 500, .fn = check_burst},
	    {.ms = 550, .fn = same_again},
	    {.ms = 700, .fn = add_resource},
	    {.ms = 900, .fn = bad_resource},
	    {.ms = 1000, .fn = change_after_bad},
	    {.ms = 1300, .fn = stop},
	};
	struct confd_opts o;
	char err[CONFD_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		steps[i].f = &f;
	opts_init(&o);
	steps_add(steps, sizeof(steps) / sizeof(steps[0]), base);
	assert_int_equal(confd_run(&o, b, base, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	/* the identical value rendered nothing new; the bad d.toml kept a
	 * and c, which both saw the last change */
	assert_file("out/a.cfg", "as 4\n");
	assert_file("out/c.cfg", "c 4\n");
	assert_int_equal(lines("reloads"), 3);
	steps_free(steps, sizeof(steps) / sizeof(steps[0]));
	confd_backend_free(b);
	event_base_free(base);
	unlink(path_of("conf.d/c.toml"));
	unlink(path_of("conf.d/d.toml"));
}

/* A change while a render is busy in a slow check_cmd is rendered next. */
static void
slow_first_load(struct fake *f)
{
	first_load(f);
}

static void
change_during(struct fake *f)
{
	/* runs after the render that blocked the loop: out/a.cfg is 64512 */
	assert_file("out/a.cfg", "as 64512\n");
	set_as(f, "5");
}

static void
check_after(struct fake *f)
{
	assert_file("out/a.cfg", "as 5\n");
	raise(SIGTERM);
}

static void
test_change_during_render(void **state)
{
	struct event_base *base = event_base_new();
	struct fake f = {.load_on_start = false};
	struct confd_backend *b = fake_new(&f, base);
	struct step steps[] = {
	    {.ms = 10, .fn = slow_first_load},
	    {.ms = 100, .fn = change_during}, /* due while check sleeps */
	    {.ms = 1200, .fn = check_after},
	};
	struct confd_opts o;
	char err[CONFD_ERRLEN], text[512];
	size_t i;

	snprintf(text, sizeof(text),
	    "[template]\nsrc = 'a.tmpl'\ndest = 'out/s.cfg'\n"
	    "prefix = '/calico/bgp/v1'\nkeys = ['/global']\n"
	    "check_cmd = 'sleep 0.4'\n"
	    "reload_cmd = 'cp %s/out/s.cfg %s/out/a.cfg'\n",
	    dir, dir);
	put("conf.d/s.toml", text);
	assert_int_equal(
	    rename(path_of("conf.d/a.toml"), path_of("a.toml")), 0);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		steps[i].f = &f;
	opts_init(&o);
	steps_add(steps, sizeof(steps) / sizeof(steps[0]), base);
	assert_int_equal(confd_run(&o, b, base, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_file("out/s.cfg", "as 5\n");
	steps_free(steps, sizeof(steps) / sizeof(steps[0]));
	confd_backend_free(b);
	event_base_free(base);
	assert_int_equal(
	    rename(path_of("a.toml"), path_of("conf.d/a.toml")), 0);
	unlink(path_of("conf.d/s.toml"));
	unlink(path_of("out/s.cfg"));
	unlink(path_of("out/a.cfg"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_onetime),
	    cmocka_unit_test(test_watch),
	    cmocka_unit_test(test_change_during_render),
	};

	store_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
