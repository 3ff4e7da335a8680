/* Logging goes to the context's callback; the library never prints itself. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void bt_log(const berth_ctx *ctx, berth_log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;
	char *message;

	if (!ctx || !ctx->log || level > ctx->log_level)
		return;
	va_start(ap, fmt);
	message = bt_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (message)
		ctx->log(level, module, message, ctx->log_userdata);
	free(message);
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

const char *berth_log_level_name(berth_log_level level)
{
	if ((unsigned)level < BT_ARRAY_SIZE(level_names))
		return level_names[level];
	return "unknown";
}

int berth_log_level_parse(const char *name, berth_log_level *out, berth_error **err)
{
	if (!name)
		return bt_error_set(err, BERTH_EINVAL, 0, "log level: none given");
	for (size_t i = 0; i < BT_ARRAY_SIZE(level_names); i++)
		if (!strcasecmp(name, level_names[i])) {
			*out = (berth_log_level)i;
			return 0;
		}
	if (!strcasecmp(name, "warning")) {
		*out = BERTH_LOG_WARN;
		return 0;
	}
	return bt_error_set(err, BERTH_EINVAL, 0,
			    "log level \"%s\": expected error, warn, info or debug", name);
}
