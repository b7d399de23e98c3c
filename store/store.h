/*
 * Process-wide setup for the libraries store/ is built on, done once by
 * the program, not hidden in the library: jansson's allocator is global to
 * the process, so main() (or a test's, or a fuzz target's initializer)
 * chooses it, as it chooses logging.
 *
 * store_init() makes jansson allocate with lib/xmalloc.h, so running out of
 * memory inside jansson is fatal (the project's rule) instead of a NULL
 * that json_object_set_new(), json_array_append_new() and the like report
 * as a -1 nobody checks: without it a failed allocation silently drops a
 * member or an item.
 *
 * Call it first thing in main(), before any other store/ or jansson call
 * (jansson must free with the allocator that allocated; free() is both
 * before and after, so an earlier call is harmless but not checked).  It
 * may be called again.  Every program linking podmesh_store calls it:
 * podmeshctl, the daemons (node, confd, CNI), the integration drivers
 * (etcd_drive.c and the others in tests/integration/), fuzz targets in
 * LLVMFuzzerInitialize, unit tests of store/.
 */
#ifndef PODMESH_STORE_STORE_H
#define PODMESH_STORE_STORE_H

void store_init(void);

#endif
