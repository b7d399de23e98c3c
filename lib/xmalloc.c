/* Allocation wrappers that treat out of memory as fatal. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("xmalloc %zu bytes", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t n)
{
	void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);

	if (p == NULL)
		fatal("xcalloc %zu x %zu bytes", nmemb, n);
	return p;
}

void *
xrealloc(void *ptr, size_t n)
{
	void *p = realloc(ptr, n ? n : 1);

	if (p == NULL)
		fatal("xrealloc %zu bytes", n);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t n)
{
	if (n != 0 && nmemb > SIZE_MAX / n)
		fatalx("xreallocarray: %zu x %zu overflows", nmemb, n);
	return xrealloc(ptr, nmemb * n);
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("xstrdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		fatal("xstrndup");
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatal("xasprintf");
	return n;
}
