/*
 * store_init (store/store.h): the allocator jansson uses, set once by the
 * program.  A constructor in the library would run only in programs that
 * happen to link the object holding it (podmesh_store is a static
 * archive), in no defined order against others, and out of main()'s
 * sight; so the program calls this.
 */
#include <stdlib.h>

#include <jansson.h>

#include "lib/xmalloc.h"
#include "store/store.h"

void
store_init(void)
{
	/* xmalloc: out of memory is fatal(); free() takes jansson's frees */
	json_set_alloc_funcs(xmalloc, free);
}
