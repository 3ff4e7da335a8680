#!/bin/sh
# The ABI check (abi-check.sh) on a tiny library built six ways: the check
# must pass what only adds (a member at a struct's end, a function in a new
# version node) and fail what breaks callers (two members swapped, with or
# without a member added, a member retyped, a function removed). Skips (77) without abidiff or a C compiler.
set -u
command -v abidiff >/dev/null 2>&1 || { echo "abidiff not found (Debian: abigail-tools): skipped"; exit 77; }
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || { echo "no C compiler: skipped"; exit 77; }
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
check=$src/tests/abi/abi-check.sh
tmp=$(mktemp -d /tmp/berth-abi-selftest-XXXXXX); trap 'rm -rf "$tmp"' EXIT

# make NAME MEMBERS EXTRA_FUNCTION: tmp/NAME/include/t.h and tmp/NAME/libt.so
make() {
	mkdir -p "$tmp/$1/include"
	cat > "$tmp/$1/include/t.h" <<EOT
#include <stddef.h>
typedef struct {
	size_t size;
	$2
} t_opts;
int t_run(const t_opts *o);
int t_stop(int id);
$3
EOT
	{
		echo '#include "t.h"'
		echo 'int t_run(const t_opts *o) { return (int)o->size; }'
		case $1 in removed) ;; *) echo 'int t_stop(int id) { return id; }' ;; esac
		[ -z "$3" ] || echo 'int t_new(void) { return 1; }'
	} > "$tmp/$1/t.c"
	{
		printf 'T_0.1 { global: t_run;'
		[ "$1" = removed ] || printf ' t_stop;'
		printf ' local: *; };\n'
		[ -z "$3" ] || printf 'T_0.2 { global: t_new; } T_0.1;\n'
	} > "$tmp/$1/t.sym"
	"$cc" -g -O0 -shared -fPIC -I"$tmp/$1/include" -Wl,--version-script="$tmp/$1/t.sym" \
		-Wl,-soname,libt.so.0 -o "$tmp/$1/libt.so" "$tmp/$1/t.c" || exit 1
}

make base 'const char *name; int flags;' ''
make swapped 'int flags; const char *name;' ''
make grown 'const char *name; int flags; long timeout;' 'int t_new(void);'
make removed 'const char *name; int flags;' ''
make grown_swapped 'int flags; const char *name; long timeout;' ''
make retyped 'const char *name; long flags;' ''
abidw --headers-dir "$tmp/base/include" --out-file "$tmp/base.abi" "$tmp/base/libt.so" || exit 1

status=0
expect() { # expect pass|fail NAME
	"$check" "$tmp/base.abi" "$tmp/$2/libt.so" "$tmp/$2/include" > "$tmp/$2.out" 2>&1
	rc=$?
	case $1:$rc in
	pass:0|fail:1) echo "ok: $2: ${1}ed as it must" ;;
	*) echo "FAIL: $2: the check should $1 (status $rc):"; cat "$tmp/$2.out"; status=1 ;;
	esac
}
expect pass base
expect pass grown
expect fail swapped
expect fail removed
expect fail grown_swapped
expect fail retyped
grep -q "flags" "$tmp/swapped.out" || { echo "FAIL: the report of the swap does not name the member"; status=1; }
exit $status
