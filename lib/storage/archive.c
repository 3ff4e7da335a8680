/* libarchive, opened on first use: unpacking and diffs need it, starting a
 * container from an unpacked image does not (DESIGN.md, start-up cost). */
#include "storage-internal.h"

struct bt_archive_fns bt_ar;

#define SYM(name, field) { "archive_" name, (void **)&bt_ar.field }
static const bt_dl_sym archive_syms[] = {
	SYM("read_new", read_new),
	SYM("read_support_filter_gzip", read_support_filter_gzip),
	SYM("read_support_filter_zstd", read_support_filter_zstd),
	SYM("read_support_format_raw", read_support_format_raw),
	SYM("read_support_format_tar", read_support_format_tar),
	SYM("read_open_fd", read_open_fd),
	SYM("read_open", read_open),
	SYM("read_next_header", read_next_header),
	SYM("read_data", read_data),
	SYM("read_data_block", read_data_block),
	SYM("read_free", read_free),
	SYM("filter_bytes", filter_bytes),
	SYM("error_string", error_string),
	SYM("errno", errno_),
	SYM("write_new", write_new),
	SYM("write_set_format_pax_restricted", write_set_format_pax_restricted),
	SYM("write_set_bytes_in_last_block", write_set_bytes_in_last_block),
	SYM("write_open_fd", write_open_fd),
	SYM("write_header", write_header),
	SYM("write_data", write_data),
	SYM("write_close", write_close),
	SYM("write_free", write_free),
	SYM("entry_new", entry_new),
	SYM("entry_clear", entry_clear),
	SYM("entry_free", entry_free),
	SYM("entry_pathname", entry_pathname),
	SYM("entry_hardlink", entry_hardlink),
	SYM("entry_symlink", entry_symlink),
	SYM("entry_filetype", entry_filetype),
	SYM("entry_perm", entry_perm),
	SYM("entry_uid", entry_uid),
	SYM("entry_gid", entry_gid),
	SYM("entry_size", entry_size),
	SYM("entry_rdevmajor", entry_rdevmajor),
	SYM("entry_rdevminor", entry_rdevminor),
	SYM("entry_mtime", entry_mtime),
	SYM("entry_mtime_nsec", entry_mtime_nsec),
	SYM("entry_xattr_reset", entry_xattr_reset),
	SYM("entry_xattr_next", entry_xattr_next),
	SYM("entry_set_pathname", entry_set_pathname),
	SYM("entry_set_hardlink", entry_set_hardlink),
	SYM("entry_set_symlink", entry_set_symlink),
	SYM("entry_set_filetype", entry_set_filetype),
	SYM("entry_set_perm", entry_set_perm),
	SYM("entry_set_uid", entry_set_uid),
	SYM("entry_set_gid", entry_set_gid),
	SYM("entry_set_size", entry_set_size),
	SYM("entry_set_mtime", entry_set_mtime),
	SYM("entry_set_rdevmajor", entry_set_rdevmajor),
	SYM("entry_set_rdevminor", entry_set_rdevminor),
	SYM("entry_xattr_add_entry", entry_xattr_add_entry),
	{ NULL, NULL },
};
#undef SYM

static bt_dl_lib archive_lib = BT_DL_LIB(BERTH_LIBARCHIVE_SONAME, archive_syms);

int bt_archive_load(berth_error **err)
{
	return bt_dl_load(&archive_lib, err);
}
