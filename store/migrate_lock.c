/*
 * Migration, the lock on the v2.6 side (store/migrate.h, Locking): Calico
 * v2.6's CNI plugin and Felix only write while /calico/v1/Ready is "true",
 * so the migration sets it to "false" before reading etcd v2, as
 * calico-upgrade does, sets it back when it then writes nothing, and
 * before declaring v3 ready checks that nothing under /calico changed
 * after the listing (a v2.6 component that read Ready just before it
 * went false).
 */
#include <stdio.h>
#include <string.h>

#include "store/etcdv2.h"
#include "store/migrate.h"

#define LOCK_TRIES 5 /* Ready flipping under us: give up after that */

static bool
is(const struct etcdv2_node *n, const char *s)
{
	return n->value_len == strlen(s) &&
	    memcmp(n->value, s, n->value_len) == 0;
}

static bool
etcd_code(const struct etcdv2 *v2, int code)
{
	const struct etcdv2_error *e = etcdv2_last_error(v2);

	return e->kind == ETCDV2_E_ETCD && e->code == code;
}

/* Ready true -> false (prevValue): 0 done, 1 it was not "true", -1 */
static int
lock_cas(struct migrate_plan *p, struct etcdv2 *v2)
{
	struct etcdv2_opts o = {.prev_value = "true"};
	struct etcdv2_result r;

	if (etcdv2_set(v2, MIGRATE_V1_READY, "false", &o, &r) == -1)
		return etcd_code(v2, ETCDV2_COMPARE_FAILED) ||
		        etcd_code(v2, ETCDV2_KEY_NOT_FOUND)
		    ? 1
		    : -1;
	p->lock.state = MIGRATE_LOCK_TAKEN;
	p->lock.ready_index = r.node.modified_index;
	etcdv2_result_clean(&r);
	return 0;
}

/* absent: create "false" (prevExist=false): 0 done, 1 it exists, -1 */
static int
lock_create(struct migrate_plan *p, struct etcdv2 *v2)
{
	struct etcdv2_opts o = {.prev_exist = ETCDV2_PREV_ABSENT};
	struct etcdv2_result r;

	if (etcdv2_set(v2, MIGRATE_V1_READY, "false", &o, &r) == -1)
		return etcd_code(v2, ETCDV2_NODE_EXISTS) ? 1 : -1;
	p->lock.state = MIGRATE_LOCK_CREATED;
	p->lock.ready_index = r.node.modified_index;
	etcdv2_result_clean(&r);
	return 0;
}

int
migrate_lock_v1(
    struct migrate_plan *p, struct etcdv2 *v2, char *err, size_t errlen)
{
	struct etcdv2_result r;
	int found, i, rc;

	for (i = 0; i < LOCK_TRIES; i++) {
		if ((rc = lock_cas(p, v2)) != 1)
			goto done;
		/* not "true": see what it is */
		if (etcdv2_get(v2, MIGRATE_V1_READY, &r) == -1) {
			rc = -1;
			goto done;
		}
		if (r.found && r.node.dir) {
			etcdv2_result_clean(&r);
			snprintf(err, errlen,
			    "etcd v2 at %s: %s is a directory; nothing done",
			    etcdv2_endpoint(v2), MIGRATE_V1_READY);
			return -1;
		}
		if (!r.found) {
			etcdv2_result_clean(&r);
			/* no Calico data at all: nothing to lock (nor to
			 * migrate, as the listing will say) */
			if (etcdv2_get(v2, MIGRATE_V1_ROOT, &r) == -1) {
				rc = -1;
				goto done;
			}
			found = r.found;
			etcdv2_result_clean(&r);
			if (!found)
				return 0;
			if ((rc = lock_create(p, v2)) != 1)
				goto done;
			continue;
		}
		if (is(&r.node, "false")) {
			p->lock.state = MIGRATE_LOCK_HELD;
			p->lock.ready_index = r.node.modified_index;
			etcdv2_result_clean(&r);
			return 0;
		}
		if (!is(&r.node, "true")) {
			snprintf(err, errlen,
			    "etcd v2 at %s: %s holds \"%.*s\", neither true "
			    "nor false; nothing done",
			    etcdv2_endpoint(v2), MIGRATE_V1_READY,
			    (int)(r.node.value_len < 48 ? r.node.value_len
			                                : 48),
			    r.node.value);
			etcdv2_result_clean(&r);
			return -1;
		}
		/* "true" again since the compare: once more */
		etcdv2_result_clean(&r);
	}
	snprintf(err, errlen,
	    "etcd v2 at %s: %s changed %d times while being set to false; "
	    "nothing done",
	    etcdv2_endpoint(v2), MIGRATE_V1_READY, LOCK_TRIES);
	return -1;
done:
	if (rc == -1)
		snprintf(err, errlen, "setting %s to false: %s",
		    MIGRATE_V1_READY, etcdv2_error(v2));
	return rc;
}

int
migrate_unlock_v1(
    struct migrate_plan *p, struct etcdv2 *v2, char *err, size_t errlen)
{
	struct etcdv2_opts o = {.prev_index = p->lock.ready_index};
	int rc;

	/* only what this run changed, and only if nobody changed it since */
	if (p->lock.state == MIGRATE_LOCK_TAKEN) {
		o.prev_value = "false";
		rc = etcdv2_set(v2, MIGRATE_V1_READY, "true", &o, NULL);
	} else if (p->lock.state == MIGRATE_LOCK_CREATED)
		rc = etcdv2_delete(v2, MIGRATE_V1_READY, &o, NULL);
	else
		return 0;
	if (rc == -1) {
		snprintf(err, errlen, "setting %s back: %s", MIGRATE_V1_READY,
		    etcdv2_error(v2));
		return -1;
	}
	p->lock.released = true;
	return 0;
}

int
migrate_check_v1(
    struct migrate_plan *p, struct etcdv2 *v2, char *err, size_t errlen)
{
	int64_t since = p->lock.list_index;
	struct etcdv2_result r;
	int rc;

	/* etcd v2's index counts every write: not moved, nothing changed */
	if (etcdv2_get(v2, MIGRATE_V1_READY, &r) == -1) {
		snprintf(err, errlen,
		    "checking etcd v2 for changes since the listing: %s",
		    etcdv2_error(v2));
		return -1;
	}
	p->lock.check_index = r.index;
	etcdv2_result_clean(&r);
	if (p->lock.check_index <= since)
		return 0;
	/* it moved: under /calico?  The first such change, if any */
	rc = etcdv2_watch(
	    v2, MIGRATE_V1_ROOT, since + 1, 1, MIGRATE_V1_CHECK_MS, &r);
	if (rc == 1) {
		/* only changes elsewhere in etcd v2 */
		etcdv2_result_clean(&r);
		return 0;
	}
	if (rc == 0) {
		snprintf(err, errlen,
		    "etcd v2 changed after it was read at index %lld: %s at "
		    "index %lld (a Calico v2.6 writer that had not seen %s "
		    "false?); etcd v3 lacks it: run again",
		    (long long)since, r.node.key != NULL ? r.node.key : "?",
		    (long long)r.node.modified_index, MIGRATE_V1_READY);
		etcdv2_result_clean(&r);
	} else if (etcd_code(v2, ETCDV2_INDEX_CLEARED))
		snprintf(err, errlen,
		    "etcd v2 changed more than etcd remembers after it was "
		    "read at index %lld; etcd v3 may lack some of it: run "
		    "again",
		    (long long)since);
	else
		snprintf(err, errlen,
		    "checking etcd v2 for changes since the listing: %s",
		    etcdv2_error(v2));
	p->lock.check_index = 0;
	return -1;
}
