/* Hardlinked files met in one walk of a tree: the path each inode was
 * first seen at, so later names become links to it (copying a layer,
 * writing a tar). */
#include "storage-internal.h"

#include <stdlib.h>
#include <string.h>

const char *bt_hardlinks_find(const struct bt_hardlinks *h, const struct stat *st)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].dev == st->st_dev && h->v[i].ino == st->st_ino)
			return h->v[i].path;
	return NULL;
}

int bt_hardlinks_add(struct bt_hardlinks *h, const struct stat *st, const char *path)
{
	struct bt_hardlink *v = bt_grow(h->v, h->n, &h->cap, sizeof(*v), 16);

	if (!v)
		return -1;
	h->v = v;
	if (!(v[h->n].path = strdup(path)))
		return -1;
	v[h->n].dev = st->st_dev;
	v[h->n].ino = st->st_ino;
	h->n++;
	return 0;
}

void bt_hardlinks_free(struct bt_hardlinks *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].path);
	free(h->v);
	memset(h, 0, sizeof(*h));
}
