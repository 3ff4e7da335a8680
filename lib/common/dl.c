/* Shared libraries opened on first use (DESIGN.md, start-up cost): libcurl,
 * libarchive and libcrypto cost every process that links them milliseconds
 * at start, and most processes that load libberth never need them. */
#include "internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* One lock for every library's first load; after it, state is only read. */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static void load(bt_dl_lib *lib)
{
	/* never closed: these libraries keep state of their own (threads, caches) */
	void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);

	if (!handle) {
		snprintf(lib->error, sizeof(lib->error), "%s", dlerror());
		return;
	}
	for (const bt_dl_sym *s = lib->symbols; s->name; s++)
		if (!(*s->ptr = dlsym(handle, s->name))) {
			snprintf(lib->error, sizeof(lib->error), "%s has no symbol %s", lib->soname, s->name);
			return;
		}
	lib->loaded = 1;
}

int bt_dl_load(bt_dl_lib *lib, berth_error **err)
{
	if (!__atomic_load_n(&lib->tried, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&load_lock);
		if (!lib->tried) {
			load(lib);
			__atomic_store_n(&lib->tried, 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&load_lock);
	}
	if (!lib->loaded)
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "loading %s: %s", lib->soname, lib->error);
	return 0;
}
