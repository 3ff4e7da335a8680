/* JSON over jansson: parsing with located errors, atomic writes, and typed
 * member access whose errors name the JSON path of what was wrong. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int bt_json_parse(const char *buf, size_t len, const char *what, json_t **out, berth_error **err)
{
	json_error_t jerr;

	*out = json_loadb(buf, len, 0, &jerr);
	if (!*out)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: malformed JSON at line %d column %d: %s",
				    what, jerr.line, jerr.column, jerr.text);
	return 0;
}

int bt_json_load_file(const char *path, size_t max_size, json_t **out, berth_error **err)
{
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = bt_read_file(path, max_size, &buf, &len, err)) < 0)
		return rc;
	rc = bt_json_parse(buf, len, path, out, err);
	free(buf);
	return rc;
}

static int json_write(const char *path, const json_t *json, bool durable, berth_error **err)
{
	char *text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return bt_error_set(err, BERTH_ENOMEM, 0, "writing %s: cannot encode JSON", path);
	rc = durable ? bt_write_file_atomic(path, text, strlen(text), 0644, err)
		     : bt_write_file_volatile(path, text, strlen(text), 0644, err);
	free(text);
	return rc;
}

int bt_json_write_atomic(const char *path, const json_t *json, berth_error **err)
{
	return json_write(path, json, true, err);
}

int bt_json_write_volatile(const char *path, const json_t *json, berth_error **err)
{
	return json_write(path, json, false, err);
}

const char *bt_json_type_name(const json_t *json)
{
	switch (json ? json_typeof(json) : JSON_NULL) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

static const char *type_wanted(json_type type)
{
	switch (type) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "a value";
	}
}

static bool type_matches(const json_t *value, json_type type)
{
	if (type == JSON_NULL)
		return true;
	if (type == JSON_TRUE || type == JSON_FALSE)
		return json_is_boolean(value);
	return json_typeof(value) == type;
}

int bt_json_member(const json_t *obj, const char *path, const char *key, json_type type,
		   bool required, json_t **out, berth_error **err)
{
	const char *dot = path && *path ? "." : "";
	json_t *value;

	*out = NULL;
	if (!json_is_object(obj))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an object, got %s",
				    path && *path ? path : "(top)", bt_json_type_name(obj));
	value = json_object_get(obj, key);
	if (!value || json_is_null(value)) {
		if (required)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s%s%s: missing", path ? path : "", dot, key);
		return 0;
	}
	if (!type_matches(value, type))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s%s%s: expected %s, got %s", path ? path : "",
				    dot, key, type_wanted(type), bt_json_type_name(value));
	*out = value;
	return 0;
}

int bt_json_string(const json_t *obj, const char *path, const char *key, bool required,
		   const char **out, berth_error **err)
{
	json_t *value;
	int rc = bt_json_member(obj, path, key, JSON_STRING, required, &value, err);

	if (rc == 0 && value)
		*out = json_string_value(value);
	return rc;
}

int bt_json_int(const json_t *obj, const char *path, const char *key, bool required,
		long long *out, berth_error **err)
{
	json_t *value;
	int rc = bt_json_member(obj, path, key, JSON_INTEGER, required, &value, err);

	if (rc == 0 && value)
		*out = json_integer_value(value);
	return rc;
}

int bt_json_bool(const json_t *obj, const char *path, const char *key, bool required,
		 bool *out, berth_error **err)
{
	json_t *value;
	int rc = bt_json_member(obj, path, key, JSON_TRUE, required, &value, err);

	if (rc == 0 && value)
		*out = json_is_true(value);
	return rc;
}
