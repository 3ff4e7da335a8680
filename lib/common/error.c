/* Errors: a chain of links, each with its own context in front of its cause. */
#include "internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct berth_error {
	int code;
	int sys_errno;
	char *message;       /* this link's context followed by the cause's message */
	berth_error *cause;
};

/* Handed out when the memory for an error itself cannot be had; never freed. */
static berth_error out_of_memory = { BERTH_ENOMEM, ENOMEM, (char *)"out of memory", NULL };

static berth_error *error_new(int code, int sys_errno, char *message, berth_error *cause)
{
	berth_error *e;

	if (!message || !(e = malloc(sizeof(*e)))) {
		free(message);
		berth_error_free(cause);
		return &out_of_memory;
	}
	e->code = code;
	e->sys_errno = sys_errno;
	e->message = message;
	e->cause = cause;
	return e;
}

int bt_error_set(berth_error **err, int code, int sys_errno, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	berth_error_free(*err);
	*err = error_new(code, sys_errno, bt_strdup_vprintf(fmt, ap), NULL);
	va_end(ap);
	/* the error's code, so that an error that could not be made (ENOMEM)
	 * and the returned code still agree */
	return (*err)->code;
}

int bt_error_code_from_errno(int e)
{
	switch (e) {
	case ENOENT:
		return BERTH_ENOTFOUND;
	case EEXIST:
	case ENOTEMPTY:
		return BERTH_EEXISTS;
	case EACCES:
	case EPERM:
	case EROFS:
		return BERTH_EPERM;
	case ENOMEM:
		return BERTH_ENOMEM;
	case EBUSY:
	case EAGAIN:
		return BERTH_EBUSY;
	case EINVAL:
	case ENAMETOOLONG:
	case ELOOP:
		return BERTH_EINVAL;
	case ENOSYS:
	case EOPNOTSUPP:
		return BERTH_EUNSUPPORTED;
	case EXDEV:
		return BERTH_ESCAPE;
	case ETIMEDOUT:
		return BERTH_ETIMEOUT;
	default:
		return BERTH_EOS;
	}
}

int bt_error_os(berth_error **err, const char *fmt, ...)
{
	int saved = errno;
	int code = bt_error_code_from_errno(saved);
	va_list ap;
	char *what, *message;

	if (!err)
		return code;
	va_start(ap, fmt);
	what = bt_strdup_vprintf(fmt, ap);
	va_end(ap);
	message = what ? bt_strdup_printf("%s: %s", what, strerror(saved)) : NULL;
	free(what);
	berth_error_free(*err);
	*err = error_new(code, saved, message, NULL);
	errno = saved;
	return (*err)->code;
}

/* A name the cause already said: a word of the context with one of
 * ":/@.\"" in it found in the cause, or a word the cause quotes. */
static bool said(const char *word, size_t len, const char *cause)
{
	char *w = strndup(word, len), *quoted = bt_strdup_printf("\"%s\"", w ? w : "");
	bool yes = w && quoted && ((strpbrk(w, ":/@.\"") && strstr(cause, w)) || strstr(cause, quoted));

	free(w);
	free(quoted);
	return yes;
}

/* Removes from context the names the cause says already, so that
 * "removing image x" over "no image \"x\"" reads "removing image: no image
 * \"x\"": a wrap adds only what its caller knows that the cause did not say. */
static void drop_said(char *context, const char *cause)
{
	char *r = context, *w = context;

	while (*r) {
		size_t len = strcspn(r, " ");

		if (len && said(r, len, cause)) {
			if (w > context && r[len] == '\0')
				w--; /* the space before a dropped last word */
		} else {
			memmove(w, r, len);
			w += len;
			if (r[len])
				*w++ = ' ';
		}
		r += len + (r[len] == ' ');
	}
	*w = '\0';
}

int bt_error_wrap(berth_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *context, *message;
	berth_error *cause;

	/* a wrap reports a failure: a caller passing no failure code (a stray
	 * 0) returns the cause's, never success with an error set */
	if (code >= 0)
		code = err && *err && (*err)->code < 0 ? (*err)->code : BERTH_ERROR;
	if (!err)
		return code;
	cause = *err;
	if (!cause) /* the callee failed without saying why: say at least this */
		cause = error_new(code, 0, bt_strdup_printf("%s", berth_strerror(code)), NULL);
	if (cause == &out_of_memory)
		return (*err = cause)->code;
	va_start(ap, fmt);
	context = bt_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (context)
		drop_said(context, cause->message);
	message = !context ? NULL
		  : *context ? bt_strdup_printf("%s: %s", context, cause->message)
			     : bt_strdup_printf("%s", cause->message);
	free(context);
	/* the code is the one this caller returns (a bad 401 challenge is
	 * EINVAL to the parser and EAUTH to the pull); the cause keeps its own,
	 * berth_error_cause() reaches it */
	*err = error_new(code, cause->sys_errno, message, cause);
	return (*err)->code;
}

const char *berth_error_message(const berth_error *err)
{
	return err ? err->message : "no error";
}

int berth_error_code(const berth_error *err)
{
	return err ? err->code : BERTH_OK;
}

int berth_error_errno(const berth_error *err)
{
	return err ? err->sys_errno : 0;
}

const berth_error *berth_error_cause(const berth_error *err)
{
	return err ? err->cause : NULL;
}

void berth_error_free(berth_error *err)
{
	while (err && err != &out_of_memory) {
		berth_error *cause = err->cause;

		free(err->message);
		free(err);
		err = cause;
	}
}

static const struct {
	int code;
	const char *name;
	const char *description;
} codes[] = {
	{ BERTH_OK, "OK", "success" },
	{ BERTH_ERROR, "ERROR", "error" },
	{ BERTH_EINVAL, "EINVAL", "invalid argument" },
	{ BERTH_ENOTFOUND, "ENOTFOUND", "not found" },
	{ BERTH_EEXISTS, "EEXISTS", "already exists" },
	{ BERTH_ENOMEM, "ENOMEM", "out of memory" },
	{ BERTH_EOS, "EOS", "system call failed" },
	{ BERTH_EPERM, "EPERM", "not permitted" },
	{ BERTH_EBUSY, "EBUSY", "busy" },
	{ BERTH_EUNSUPPORTED, "EUNSUPPORTED", "not supported" },
	{ BERTH_ECANCELED, "ECANCELED", "canceled" },
	{ BERTH_EAUTH, "EAUTH", "authentication failed" },
	{ BERTH_ENETWORK, "ENETWORK", "network error" },
	{ BERTH_EINTEGRITY, "EINTEGRITY", "content does not match its digest" },
	{ BERTH_ESTATE, "ESTATE", "not allowed in the current state" },
	{ BERTH_ESCAPE, "ESCAPE", "path leads outside its root" },
	{ BERTH_ETIMEOUT, "ETIMEOUT", "timed out" },
};

const char *berth_error_code_name(int code)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(codes); i++)
		if (codes[i].code == code)
			return codes[i].name;
	return "EUNKNOWN";
}

const char *berth_strerror(int code)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(codes); i++)
		if (codes[i].code == code)
			return codes[i].description;
	return "unknown error";
}

void bt_error_clear(berth_error **err)
{
	if (err) {
		berth_error_free(*err);
		*err = NULL;
	}
}
