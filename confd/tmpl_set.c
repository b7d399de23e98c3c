/*
 * The template set (Go's *template.Template and its common): its trees,
 * the texts they were parsed from, and the caller's functions, searched
 * newest first and before the builtins.
 */
#include <stdlib.h>
#include <string.h>

#include "confd/tmpl_lex.h"
#include "lib/xmalloc.h"

struct tmpl *
tmpl_new(const char *name)
{
	struct tmpl *t;

	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	return t;
}

void
ttree_free(struct ttree *t)
{
	if (t == NULL)
		return;
	tnode_free(t->root);
	free(t->name);
	free(t->parse_name);
	free(t);
}

void
tmpl_free(struct tmpl *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ntrees; i++)
		ttree_free(t->trees[i]);
	free(t->trees);
	for (i = 0; i < t->ntexts; i++)
		free(t->texts[i]);
	free(t->texts);
	free(t->funcs);
	free(t->nfuncs_in);
	free(t->func_ctx);
	free(t->name);
	free(t);
}

void
tmpl_funcs(struct tmpl *t, const struct tmpl_func *funcs, size_t n, void *ctx)
{
	size_t k = t->nfuncsets;

	t->funcs = xreallocarray(t->funcs, k + 1, sizeof(*t->funcs));
	t->nfuncs_in =
	    xreallocarray(t->nfuncs_in, k + 1, sizeof(*t->nfuncs_in));
	t->func_ctx = xreallocarray(t->func_ctx, k + 1, sizeof(*t->func_ctx));
	t->funcs[k] = funcs;
	t->nfuncs_in[k] = n;
	t->func_ctx[k] = ctx;
	t->nfuncsets = k + 1;
}

const struct tmpl_func *
tmpl_func_find(const struct tmpl *t, const char *name, void **ctx)
{
	const struct tmpl_func *f;
	size_t k, i;

	/* newest set first, and the last of a name within a set */
	for (k = t->nfuncsets; k > 0; k--)
		for (i = t->nfuncs_in[k - 1]; i > 0; i--) {
			f = &t->funcs[k - 1][i - 1];
			if (f->name != NULL && strcmp(f->name, name) == 0) {
				if (ctx != NULL)
					*ctx = t->func_ctx[k - 1];
				return f;
			}
		}
	if ((f = tmpl_builtin_find(name)) != NULL && ctx != NULL)
		*ctx = NULL;
	return f;
}

struct ttree *
tmpl_lookup(const struct tmpl *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ntrees; i++)
		if (strcmp(t->trees[i]->name, name) == 0)
			return t->trees[i];
	return NULL;
}

/*
 * Go's template.AddParseTree for each tree of a parse: a tree replaces
 * the set's tree of that name unless it is empty (spaces and comments).
 * Trees made but not kept by the parse, or not taken here, are freed.
 */
void
tmpl_set_merge(struct tmpl *t, struct ttree **made, size_t nmade,
    struct ttree **kept, size_t nkept)
{
	struct ttree *tr;
	size_t i, j, k;

	for (i = 0; i < nmade; i++) {
		tr = made[i];
		for (k = 0; k < nkept; k++)
			if (kept[k] == tr)
				break;
		if (k == nkept) {
			ttree_free(tr);
			continue;
		}
		for (j = 0; j < t->ntrees; j++)
			if (strcmp(t->trees[j]->name, tr->name) == 0)
				break;
		if (j == t->ntrees) {
			t->trees = xreallocarray(
			    t->trees, t->ntrees + 1, sizeof(*t->trees));
			t->trees[t->ntrees++] = tr;
		} else if (tnode_is_empty(tr->root))
			ttree_free(tr);
		else {
			ttree_free(t->trees[j]);
			t->trees[j] = tr;
		}
	}
}
