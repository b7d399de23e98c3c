/*
 * Resources from a YAML or JSON file, as `calicoctl apply -f` takes them:
 * each document is one resource, a list of them, or a List object
 * ({kind: List or <Kind>List, items: [...]}).  Every error carries the
 * file, the line of the offending field and the document number, and
 * nothing is returned unless every resource decodes: an apply is all or
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "store/model.h"
#include "store/model_int.h"
#include "store/yamljson.h"

struct loaded {
	struct resource *v;
	int *doc; /* the document each came from */
	size_t n;
};

static void
loaded_free(struct loaded *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		resource_clean(&l->v[i]);
	free(l->v);
	free(l->doc);
	memset(l, 0, sizeof(*l));
}

/* {kind: List | <Kind>List, items: [...]} */
static const json_t *
load_list_items(const json_t *v)
{
	const char *kind = json_string_value(json_object_get(v, "kind"));
	const json_t *items = json_object_get(v, "items");
	size_t n;

	if (kind == NULL || !json_is_array(items))
		return NULL;
	n = strlen(kind);
	if (n < 4 || strcmp(kind + n - 4, "List") != 0)
		return NULL;
	return items;
}

static int
load_dup(const struct loaded *l, const struct resource *r)
{
	const struct resource *o;
	size_t i;

	for (i = 0; i < l->n; i++) {
		o = &l->v[i];
		if (o->kind == r->kind &&
		    strcmp(o->meta.name, r->meta.name) == 0 &&
		    (o->meta.namespace == NULL) ==
		        (r->meta.namespace == NULL) &&
		    (o->meta.namespace == NULL ||
		        strcmp(o->meta.namespace, r->meta.namespace) == 0))
			return i;
	}
	return -1;
}

static int
load_one(const struct yamljson *yj, const struct yamljson_doc *d,
    const json_t *item, const char *path, int flags, struct loaded *l,
    char *err, size_t errlen)
{
	char msg[MODEL_ERRLEN], errpath[MCTX_PATH_MAX], id[MODEL_ERRLEN];
	char where[MCTX_PATH_MAX];
	struct resource r;
	int dup;

	if (resource_decode_at(item, flags, path, &r, msg, sizeof(msg), errpath,
	        sizeof(errpath)) == -1) {
		snprintf(err, errlen, "%s:%d: document %d: %s", yj->name,
		    yamljson_line(d, errpath), d->index, msg);
		return -1;
	}
	if ((dup = load_dup(l, &r)) != -1) {
		snprintf(where, sizeof(where), "%s%smetadata.name", path,
		    *path != '\0' ? "." : "");
		snprintf(err, errlen,
		    "%s:%d: document %d: %s: %s given twice (also in "
		    "document %d)",
		    yj->name, yamljson_line(d, where), d->index, where,
		    resource_id(&r, id, sizeof(id)), l->doc[dup]);
		resource_clean(&r);
		return -1;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->doc = xreallocarray(l->doc, l->n + 1, sizeof(*l->doc));
	l->v[l->n] = r;
	l->doc[l->n++] = d->index;
	return 0;
}

int
resource_load(const struct yamljson *yj, int flags, struct resource **out,
    size_t *n, char *err, size_t errlen)
{
	struct loaded l = {NULL, NULL, 0};
	const struct yamljson_doc *d;
	const json_t *items = NULL;
	char path[64];
	size_t i, j;
	int rc = 0;

	for (i = 0; i < yj->ndocs && rc == 0; i++) {
		d = &yj->docs[i];
		if (json_is_array(d->value) ||
		    (json_is_object(d->value) &&
		        (items = load_list_items(d->value)) != NULL)) {
			items = json_is_array(d->value) ? d->value : items;
			for (j = 0; j < json_array_size(items) && rc == 0;
			     j++) {
				snprintf(path, sizeof(path), "%s[%zu]",
				    items == d->value ? "" : "items", j);
				rc = load_one(yj, d, json_array_get(items, j),
				    path, flags, &l, err, errlen);
			}
		} else
			rc = load_one(
			    yj, d, d->value, "", flags, &l, err, errlen);
	}
	if (rc == -1) {
		loaded_free(&l);
		*out = NULL;
		*n = 0;
		return -1;
	}
	free(l.doc);
	*out = l.v;
	*n = l.n;
	return 0;
}
