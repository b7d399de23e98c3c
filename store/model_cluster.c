/*
 * ClusterInformation (calico.md §1): the "default" object calico/node
 * writes at startup; its datastoreReady replaces v2.6's /calico/v1/Ready.
 */
#include <stddef.h>

#include "store/model.h"
#include "store/model_int.h"

static const struct mfield clusterinfo_fields[] = {
    {.name = "clusterGUID",
        .type = MF_STR,
        .off = offsetof(struct model_clusterinfo, cluster_guid)},
    {.name = "clusterType",
        .type = MF_STR,
        .off = offsetof(struct model_clusterinfo, cluster_type)},
    {.name = "calicoVersion",
        .type = MF_STR,
        .off = offsetof(struct model_clusterinfo, calico_version)},
    {.name = "datastoreReady",
        .type = MF_TRI,
        .off = offsetof(struct model_clusterinfo, datastore_ready)},
    {.name = "variant",
        .type = MF_STR,
        .off = offsetof(struct model_clusterinfo, variant)},
};

const struct mtable model_clusterinfo_table =
    MTABLE(clusterinfo_fields, struct model_clusterinfo, NULL);

int
model_clusterinfo_from_json(const json_t *j, struct model_clusterinfo *ci,
    int flags, char *err, size_t errlen)
{
	return model_spec_from_json(
	    MODEL_CLUSTERINFO, j, ci, flags, err, errlen);
}

json_t *
model_clusterinfo_to_json(const struct model_clusterinfo *ci)
{
	return model_spec_to_json(MODEL_CLUSTERINFO, ci);
}

void
model_clusterinfo_clean(struct model_clusterinfo *ci)
{
	model_spec_clean(MODEL_CLUSTERINFO, ci);
}
