/* index.json of the content store: ref-name checks, descriptors, and
 * loading, listing, resolving, tagging and untagging. Every change of
 * index.json is made here, under the index lock, by an atomic rewrite. */
#include "internal.h"
#include "image-internal.h"

#include <stdlib.h>
#include <string.h>

static bool ref_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ref ::= component ("/" component)*; component ::= alphanum (separator
 * alphanum)*; separator ::= [-._:@+] | "--" (image-spec annotations.md) */
int bt_store_check_ref_name(const char *ref, berth_error **err)
{
	const char *c = ref;

	if (!ref || !*ref)
		return bt_error_set(err, BERTH_EINVAL, 0, "image tag: empty");
	if (strlen(ref) > 1024)
		return bt_error_set(err, BERTH_EINVAL, 0, "image tag \"%.40s...\": too long", ref);
	for (;;) {
		/* one component */
		if (!ref_alnum(*c))
			goto bad;
		while (*c && *c != '/') {
			while (ref_alnum(*c))
				c++;
			if (!*c || *c == '/')
				break;
			if (c[0] == '-' && c[1] == '-')
				c += 2;
			else if (strchr("-._:@+", *c))
				c++;
			else
				goto bad;
			if (!ref_alnum(*c))
				goto bad;
		}
		if (!*c)
			return 0;
		c++; /* the '/' */
	}
bad:
	return bt_error_set(err, BERTH_EINVAL, 0,
			    "image tag \"%.200s\": not a valid reference name at offset %zu "
			    "(components of letters and digits joined by one of -._:@+ or --, "
			    "separated by '/')", ref, (size_t)(c - ref));
}

/* Checks one descriptor of manifests[] (path names it in errors). */
static int check_descriptor(const json_t *d, const char *path, berth_error **err)
{
	const char *media, *digest, *ref;
	json_t *annotations, *value;
	long long size;
	const char *key;
	int rc;

	if ((rc = bt_json_string(d, path, "mediaType", true, &media, err)) < 0 ||
	    (rc = bt_json_string(d, path, "digest", true, &digest, err)) < 0 ||
	    (rc = bt_json_int(d, path, "size", true, &size, err)) < 0 ||
	    (rc = bt_json_member(d, path, "annotations", JSON_OBJECT, false, &annotations, err)) < 0)
		return rc;
	if (!*media)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.mediaType: empty", path);
	if ((rc = bt_digest_validate(digest, err)) < 0)
		return bt_error_wrap(err, rc, "%s.digest", path);
	if (size < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.size: negative (%lld)", path, size);
	if (!annotations)
		return 0;
	json_object_foreach(annotations, key, value) {
		if (!json_is_string(value))
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "%s.annotations.%s: expected a string, got %s", path, key,
					    bt_json_type_name(value));
	}
	if ((ref = json_string_value(json_object_get(annotations, BT_ANNOTATION_REF_NAME))) &&
	    (rc = bt_store_check_ref_name(ref, err)) < 0)
		return bt_error_wrap(err, rc, "%s.annotations", path);
	return 0;
}

static int check_index(const json_t *index, berth_error **err)
{
	const char *media = NULL;
	json_t *manifests, *d;
	long long version;
	size_t i;
	int rc;

	if (!json_is_object(index))
		return bt_error_set(err, BERTH_EINVAL, 0, "expected an object, got %s",
				    bt_json_type_name(index));
	if ((rc = bt_json_int(index, "", "schemaVersion", true, &version, err)) < 0 ||
	    (rc = bt_json_string(index, "", "mediaType", false, &media, err)) < 0 ||
	    (rc = bt_json_member(index, "", "manifests", JSON_ARRAY, true, &manifests, err)) < 0)
		return rc;
	if (version != 2)
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "schemaVersion %lld, expected 2", version);
	if (media && strcmp(media, BT_MEDIA_OCI_INDEX))
		return bt_error_set(err, BERTH_EINVAL, 0, "mediaType \"%.100s\", expected %s", media,
				    BT_MEDIA_OCI_INDEX);
	json_array_foreach(manifests, i, d) {
		char path[64];

		snprintf(path, sizeof(path), "manifests[%zu]", i);
		if (!json_is_object(d))
			return bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an object, got %s", path,
					    bt_json_type_name(d));
		if ((rc = check_descriptor(d, path, err)) < 0)
			return rc;
	}
	return 0;
}

int bt_store_index_load(const bt_store *s, json_t **out, berth_error **err)
{
	int rc;

	*out = NULL;
	if ((rc = bt_json_load_file(s->index_path, BT_STORE_INDEX_MAX, out, err)) < 0)
		return bt_error_wrap(err, rc, "reading the image index");
	if ((rc = check_index(*out, err)) < 0) {
		bt_error_wrap(err, rc, "reading the image index %s", s->index_path);
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static const char *ref_name_of(const json_t *d)
{
	return json_string_value(
		json_object_get(json_object_get(d, "annotations"), BT_ANNOTATION_REF_NAME));
}

void bt_descriptor_clear(bt_descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->ref_name);
	json_decref(d->json);
	memset(d, 0, sizeof(*d));
}

void bt_descriptors_free(bt_descriptor *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		bt_descriptor_clear(&v[i]);
	free(v);
}

/* From a validated descriptor. */
static int descriptor_from(json_t *j, bt_descriptor *d, berth_error **err)
{
	const char *ref = ref_name_of(j);

	memset(d, 0, sizeof(*d));
	d->media_type = strdup(json_string_value(json_object_get(j, "mediaType")));
	snprintf(d->digest, sizeof(d->digest), "%s",
		 json_string_value(json_object_get(j, "digest")));
	d->size = json_integer_value(json_object_get(j, "size"));
	d->ref_name = ref ? strdup(ref) : NULL;
	d->json = json_incref(j);
	if (!d->media_type || (ref && !d->ref_name)) {
		bt_descriptor_clear(d);
		return bt_error_set(err, BERTH_ENOMEM, 0, "reading the image index: out of memory");
	}
	return 0;
}

int bt_store_index_list(const bt_store *s, bt_descriptor **out, size_t *n, berth_error **err)
{
	json_t *index, *manifests, *j;
	bt_descriptor *v;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = bt_store_index_load(s, &index, err)) < 0)
		return rc;
	manifests = json_object_get(index, "manifests");
	if (!(v = calloc(json_array_size(manifests) + 1, sizeof(*v)))) {
		json_decref(index);
		return bt_error_set(err, BERTH_ENOMEM, 0, "reading the image index: out of memory");
	}
	json_array_foreach(manifests, i, j) {
		if ((rc = descriptor_from(j, &v[i], err)) < 0) {
			bt_descriptors_free(v, i);
			json_decref(index);
			return rc;
		}
	}
	*out = v;
	*n = json_array_size(manifests);
	json_decref(index);
	return 0;
}

int bt_store_resolve(const bt_store *s, const char *ref_name, bt_descriptor *out,
		     berth_error **err)
{
	json_t *index, *found = NULL, *j;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = bt_store_index_load(s, &index, err)) < 0)
		return rc;
	json_array_foreach(json_object_get(index, "manifests"), i, j) {
		const char *ref = ref_name_of(j);

		if (ref && !strcmp(ref, ref_name)) {
			found = j;
			break;
		}
	}
	if (found)
		rc = descriptor_from(found, out, err);
	else
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "image %.200s: not in the store %s",
				  ref_name, s->dir);
	json_decref(index);
	return rc;
}

/* Index of the entry tagged ref_name in manifests, or -1. */
static long find_tag(const json_t *manifests, const char *ref_name)
{
	size_t i;
	json_t *j;

	json_array_foreach(manifests, i, j) {
		const char *ref = ref_name_of(j);

		if (ref && !strcmp(ref, ref_name))
			return (long)i;
	}
	return -1;
}

int bt_store_index_lock(bt_store *s, int *fd, json_t **index, berth_error **err)
{
	int rc;

	*index = NULL;
	if ((rc = bt_lock_acquire(s->index_lock, BT_LOCK_EXCLUSIVE, fd, err)) < 0)
		return rc;
	/* every writer of index.json and berth-holds.json holds this lock:
	 * temp files are the dead's */
	bt_sweep_atomic_temps(NULL, s->index_path);
	bt_sweep_atomic_temps(NULL, s->holds_path);
	if ((rc = bt_store_index_load(s, index, err)) < 0) {
		bt_lock_release(*fd);
		*fd = -1;
	}
	return rc;
}

int bt_store_tag(bt_store *s, const char *ref_name, const char *media_type, const char *digest,
		 int64_t size, const json_t *extra, berth_error **err)
{
	json_t *index = NULL, *d = NULL, *annotations, *manifests;
	int fd = -1, rc;
	long at;

	if ((rc = bt_store_check_ref_name(ref_name, err)) < 0)
		return rc;
	if (!media_type || !*media_type || !digest || size < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "tagging %s: media type, digest and size needed",
				    ref_name);
	if ((rc = bt_store_has_blob(s, digest, size, err)) < 0)
		return bt_error_wrap(err, rc, "tagging %s as %s", digest, ref_name);
	if (rc == 0)
		return bt_error_set(err, BERTH_ENOTFOUND, 0,
				    "tagging %s as %s: no blob of %lld bytes with that digest in %s",
				    digest, ref_name, (long long)size, s->dir);
	if (extra && !json_is_object(extra))
		return bt_error_set(err, BERTH_EINVAL, 0, "tagging %s: extra descriptor members must be an object",
				    ref_name);
	if (!(d = extra ? json_deep_copy(extra) : json_object()) ||
	    json_object_set_new(d, "mediaType", json_string(media_type)) < 0 ||
	    json_object_set_new(d, "digest", json_string(digest)) < 0 ||
	    json_object_set_new(d, "size", json_integer(size)) < 0)
		goto nomem;
	if (!(annotations = json_object_get(d, "annotations"))) {
		if (json_object_set_new(d, "annotations", json_object()) < 0)
			goto nomem;
		annotations = json_object_get(d, "annotations");
	}
	if (json_object_set_new(annotations, BT_ANNOTATION_REF_NAME, json_string(ref_name)) < 0)
		goto nomem;
	if ((rc = check_descriptor(d, "descriptor", err)) < 0) {
		bt_error_wrap(err, rc, "tagging %s as %s", digest, ref_name);
		goto out;
	}
	if ((rc = bt_store_index_lock(s, &fd, &index, err)) < 0) {
		bt_error_wrap(err, rc, "tagging %s as %s", digest, ref_name);
		goto out;
	}
	manifests = json_object_get(index, "manifests");
	at = find_tag(manifests, ref_name);
	if (at >= 0 && json_equal(json_array_get(manifests, (size_t)at), d))
		goto out; /* tagged so already: index.json stays as it is */
	if ((at >= 0 ? json_array_set(manifests, (size_t)at, d) : json_array_append(manifests, d)) < 0)
		goto nomem;
	if ((rc = bt_json_write_atomic(s->index_path, index, err)) < 0)
		bt_error_wrap(err, rc, "tagging %s as %s", digest, ref_name);
	goto out;
nomem:
	rc = bt_error_set(err, BERTH_ENOMEM, 0, "tagging %s as %s: out of memory", digest, ref_name);
out:
	bt_lock_release(fd);
	json_decref(d);
	json_decref(index);
	return rc;
}

int bt_store_untag(bt_store *s, const char *ref_name, berth_error **err)
{
	json_t *index = NULL, *manifests;
	int fd = -1, rc;
	long at;

	if ((rc = bt_store_index_lock(s, &fd, &index, err)) < 0) {
		bt_error_wrap(err, rc, "untagging %.200s", ref_name);
		goto out;
	}
	manifests = json_object_get(index, "manifests");
	if ((at = find_tag(manifests, ref_name)) < 0) {
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "untagging %.200s: no such tag in %s", ref_name,
				  s->dir);
		goto out;
	}
	json_array_remove(manifests, (size_t)at);
	if ((rc = bt_json_write_atomic(s->index_path, index, err)) < 0)
		bt_error_wrap(err, rc, "untagging %.200s", ref_name);
out:
	bt_lock_release(fd);
	json_decref(index);
	return rc;
}

int bt_store_untag_locked(bt_store *s, json_t *index, char *const *refs, size_t n, berth_error **err)
{
	json_t *manifests = json_object_get(index, "manifests");
	bool changed = false;
	long at;

	for (size_t i = 0; i < n; i++)
		if ((at = find_tag(manifests, refs[i])) >= 0) {
			json_array_remove(manifests, (size_t)at);
			changed = true;
		}
	return changed ? bt_json_write_atomic(s->index_path, index, err) : 0;
}
