/*
 * The backend dispatcher behind confd.h's confd_backend_*: picks the
 * backend type's constructor (backend_int.h) by config->type and owns what
 * every type shares: the callback, the key tree handed to templates, the
 * description for the log, and freeing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/backend_int.h"
#include "confd/confd.h"
#include "lib/log.h"

static const struct {
	const char *type;
	struct confd_backend *(*new)(
	    const struct confd_backend_config *, char *, size_t);
} backend_types[] = {
    {"etcdv3", confd_backend_v3_new},
    {"etcdv2", confd_backend_v2_new},
    {"file", confd_backend_file_new},
};

struct confd_backend *
confd_backend_new(
    const struct confd_backend_config *config, char *err, size_t errlen)
{
	const char *type = config->type;
	size_t i;

	if (type == NULL || *type == '\0')
		type = "etcdv3";
	for (i = 0; i < sizeof(backend_types) / sizeof(backend_types[0]); i++)
		if (strcmp(type, backend_types[i].type) == 0)
			return backend_types[i].new(config, err, errlen);
	snprintf(err, errlen,
	    "unknown backend type \"%s\": use etcdv3, etcdv2 or file", type);
	return NULL;
}

void
confd_backend_set_callback(
    struct confd_backend *b, confd_backend_cb *cb, void *arg)
{
	b->cb = cb;
	b->cb_arg = arg;
}

int
confd_backend_start(struct confd_backend *b, char *err, size_t errlen)
{
	if (b->ops->start == NULL)
		return 0;
	return b->ops->start(b, err, errlen);
}

const struct confd_kvs *
confd_backend_kvs(const struct confd_backend *b)
{
	return b->loaded ? &b->kvs : NULL;
}

const char *
confd_backend_describe(const struct confd_backend *b)
{
	return b->describe;
}

void
confd_backend_free(struct confd_backend *b)
{
	if (b == NULL)
		return;
	if (b->ops != NULL && b->ops->free != NULL)
		b->ops->free(b);
	else
		free(b->priv);
	confd_kvs_clean(&b->kvs);
	free(b);
}

void
confd_backend_changed(struct confd_backend *b)
{
	if (!b->loaded)
		log_debug(
		    "backend %s: loaded, %zu keys", b->describe, b->kvs.n);
	b->loaded = true;
	if (b->cb != NULL)
		b->cb(b, b->cb_arg);
}
