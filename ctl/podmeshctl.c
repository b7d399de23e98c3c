/*
 * podmeshctl: the command line of podmesh.  Options come anywhere on the
 * line; the remaining words pick a row of the command tables (bgp.c), which
 * also write the usage text, so --help lists exactly what exists.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

#ifndef PODMESH_VERSION
#define PODMESH_VERSION "0.1.0"
#endif

#define CTL_MAX_WORDS 16

static const struct {
	const struct ctl_cmd *cmds;
	const size_t *ncmds;
} ctl_groups[] = {
    {.cmds = bgp_cmds, .ncmds = &bgp_ncmds},
};

#define CTL_NGROUPS (sizeof(ctl_groups) / sizeof(ctl_groups[0]))

/* prints text wrapped at 78 columns, each line indented */
static void
ctl_wrap(FILE *out, const char *text, int indent)
{
	const char *s = text, *end, *brk;
	int width = 78 - indent;

	while (*s != '\0') {
		end = s + strlen(s);
		if (end - s > width) {
			for (brk = s + width; brk > s && *brk != ' '; brk--)
				;
			if (brk > s)
				end = brk;
		}
		fprintf(out, "%*s%.*s\n", indent, "", (int)(end - s), s);
		s = *end == ' ' ? end + 1 : end;
	}
}

static void
ctl_usage(FILE *out)
{
	const struct ctl_cmd *c;
	char line[128];
	size_t g, i;

	fprintf(out,
	    "usage: podmeshctl [-s PATH] COMMAND [ARGUMENTS] [-o json]\n"
	    "\n"
	    "Commands:\n");
	for (g = 0; g < CTL_NGROUPS; g++) {
		for (i = 0; i < *ctl_groups[g].ncmds; i++) {
			c = &ctl_groups[g].cmds[i];
			snprintf(line, sizeof(line), "%s %s%s%s", c->group,
			    c->name, *c->args ? " " : "", c->args);
			fprintf(out, "  %s\n", line);
			ctl_wrap(out, c->help, 6);
		}
	}
	fprintf(out,
	    "\n"
	    "Options:\n"
	    "  -s, --socket PATH    control socket of podmesh-bgpd; default\n"
	    "                       $%s, else %s\n"
	    "  -o, --output FORMAT  table (the default, for people) or json\n"
	    "  -h, --help           show this help\n"
	    "      --version        show the version\n"
	    "\n"
	    "Exit status: 0 on success, 1 on error, 2 on a usage error.\n",
	    CTL_SOCKET_ENV, CTL_DEFAULT_BGPD_SOCKET);
}

static int ctl_usage_error(const char *, ...)
    __attribute__((format(printf, 1, 2)));

static int
ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "podmeshctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'podmeshctl --help'.\n");
	return 2;
}

static const struct ctl_cmd *
ctl_find(const char *group, const char *name, bool *group_found)
{
	size_t g, i;

	*group_found = false;
	for (g = 0; g < CTL_NGROUPS; g++) {
		for (i = 0; i < *ctl_groups[g].ncmds; i++) {
			const struct ctl_cmd *c = &ctl_groups[g].cmds[i];

			if (strcmp(c->group, group) != 0)
				continue;
			*group_found = true;
			if (name != NULL && strcmp(c->name, name) == 0)
				return c;
		}
	}
	return NULL;
}

/* "--opt VALUE", "--opt=VALUE", "-o VALUE" or "-oVALUE" */
static const char *
ctl_optarg(
    int argc, char **argv, int *i, const char *shortopt, const char *longopt)
{
	const char *a = argv[*i];
	size_t n = strlen(longopt);

	if (strncmp(a, longopt, n) == 0 && a[n] == '=')
		return a + n + 1;
	if (strcmp(a, longopt) != 0 && strcmp(a, shortopt) != 0 &&
	    strncmp(a, shortopt, 2) == 0)
		return a + 2;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static bool
ctl_is_opt(const char *a, const char *shortopt, const char *longopt)
{
	size_t n = strlen(longopt);

	return strcmp(a, longopt) == 0 ||
	    (strncmp(a, longopt, n) == 0 && a[n] == '=') ||
	    strncmp(a, shortopt, 2) == 0;
}

int
main(int argc, char **argv)
{
	struct ctl ctl = {.socket = NULL, .output = OUTPUT_TABLE};
	char *words[CTL_MAX_WORDS];
	const char *env, *val;
	const struct ctl_cmd *cmd;
	bool endopts = false, found, output_given = false;
	int i, nwords = 0, nargs;

	if ((env = getenv(CTL_SOCKET_ENV)) != NULL && *env != '\0')
		ctl.socket = env;
	else
		ctl.socket = CTL_DEFAULT_BGPD_SOCKET;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (endopts || a[0] != '-' || a[1] == '\0') {
			if (nwords == CTL_MAX_WORDS)
				return ctl_usage_error("too many arguments");
			words[nwords++] = argv[i];
		} else if (strcmp(a, "--") == 0) {
			endopts = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			ctl_usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("podmeshctl %s\n", PODMESH_VERSION);
			return 0;
		} else if (ctl_is_opt(a, "-s", "--socket")) {
			if ((val = ctl_optarg(
			         argc, argv, &i, "-s", "--socket")) == NULL ||
			    *val == '\0')
				return ctl_usage_error("%s needs a path", a);
			ctl.socket = val;
		} else if (ctl_is_opt(a, "-o", "--output")) {
			if ((val = ctl_optarg(
			         argc, argv, &i, "-o", "--output")) == NULL)
				return ctl_usage_error("%s needs a format", a);
			if (strcmp(val, "json") == 0)
				ctl.output = OUTPUT_JSON;
			else if (strcmp(val, "table") == 0)
				ctl.output = OUTPUT_TABLE;
			else
				return ctl_usage_error("unknown output format "
				                       "'%s' (json or table)",
				    val);
			output_given = true;
		} else
			return ctl_usage_error("unknown option '%s'", a);
	}

	if (nwords == 0) {
		ctl_usage(stderr);
		return 2;
	}
	cmd = ctl_find(words[0], nwords > 1 ? words[1] : NULL, &found);
	if (!found)
		return ctl_usage_error("unknown command '%s'", words[0]);
	if (cmd == NULL) {
		if (nwords == 1)
			return ctl_usage_error(
			    "'%s' needs a subcommand", words[0]);
		return ctl_usage_error("unknown subcommand '%s'", words[1]);
	}
	nargs = nwords - 2;
	if (nargs < cmd->minargs || nargs > cmd->maxargs) {
		fprintf(stderr, "usage: podmeshctl %s %s%s%s\n", cmd->group,
		    cmd->name, *cmd->args ? " " : "", cmd->args);
		return 2;
	}
	if (output_given && !cmd->output)
		return ctl_usage_error("-o does not apply to '%s'", cmd->name);
	return cmd->exec(&ctl, nargs, words + 2) == 0 ? 0 : 1;
}
