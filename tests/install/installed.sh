#!/bin/sh
# After `make install` (with or without DESTDIR): the C example builds
# against the installed library with pkg-config alone, each installed header
# compiles on its own, and the installed Python and Lua modules load.
# Run by `make installcheck`; the Makefile passes the install directories.
set -eu
srcdir=$1
root="${DESTDIR:-}"
tmp=$(mktemp -d /tmp/berth-installcheck-XXXXXX); trap 'rm -rf "$tmp"' EXIT
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }

export PKG_CONFIG_PATH="$root$libdir/pkgconfig"
[ -n "$root" ] && export PKG_CONFIG_SYSROOT_DIR="$root"
export LD_LIBRARY_PATH="$root$libdir"
preload=
if [ -n "$SANITIZER_FLAGS" ]; then preload=$($CC -print-file-name=libasan.so); fi

flags=$(pkg-config --cflags --libs libberth)
# shellcheck disable=SC2086 # word splitting of flags is wanted
$CC $SANITIZER_FLAGS "$srcdir/examples/c/hello.c" $flags -o "$tmp/hello"
out=$("$tmp/hello" "$tmp/store")
echo "$out" | grep -q "^libberth [0-9.]* (headers [0-9.]*), store $tmp/store$" || { echo "hello said: $out"; exit 1; }
# the library it ran with is the installed one, not the build tree's
ldd "$tmp/hello" | grep -q "libberth.so.0 => $root$libdir/libberth.so.0" || { ldd "$tmp/hello"; exit 1; }
ok "examples/c/hello built with pkg-config ($flags) and ran"

for h in "$root$prefix"/include/berth/*.h; do
	printf '#include <berth/%s>\nint main(void) { return 0; }\n' "$(basename "$h")" > "$tmp/h.c"
	# shellcheck disable=SC2086
	$CC -Wall -Werror $(pkg-config --cflags libberth) -c "$tmp/h.c" -o "$tmp/h.o"
done
ok "every installed header compiles on its own"

[ -f "$root$bashcompletiondir/berth" ] || { echo "no bash completion in $root$bashcompletiondir"; exit 1; }
ok "bash completion installed in $bashcompletiondir"

# where libberth looks for them without BERTH_DATADIR and BERTH_INIT
[ -f "$root$pkgdatadir/seccomp/default.json" ] || { echo "no seccomp profile in $root$pkgdatadir/seccomp"; exit 1; }
ok "the default seccomp profile installed in $pkgdatadir/seccomp"
[ -x "$root$pkglibexecdir/berth-init" ] || { echo "no berth-init in $root$pkglibexecdir"; exit 1; }
ok "berth-init installed in $pkglibexecdir"

if [ -z "${ENABLE_PYTHON-x}" ]; then
	v=$(PYTHONPATH="$root$berth_pyexecdir" LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 \
		"$PYTHON" -c 'import berth; print(berth.version())')
	[ -n "$v" ] && ok "python: import berth from $berth_pyexecdir: version $v"
fi
# pip install ./bindings/python in a virtualenv builds the module again
# against the installed library (pkg-config); offline, so the system's
# setuptools (--system-site-packages, --no-build-isolation). From a copy:
# pip builds in place and the source tree may be read-only (distcheck).
if [ -z "${ENABLE_PYTHON-x}" ] && [ -z "$SANITIZER_FLAGS" ] &&
	"$PYTHON" -c 'import setuptools, venv, pip' 2>/dev/null; then
	cp -r "$srcdir/bindings/python" "$tmp/pysrc"
	chmod -R u+w "$tmp/pysrc"
	"$PYTHON" -m venv --system-site-packages "$tmp/venv"
	"$tmp/venv/bin/python" -m pip install -q --no-build-isolation --no-index "$tmp/pysrc" > "$tmp/pip.log" 2>&1 ||
		{ cat "$tmp/pip.log"; exit 1; }
	v=$(cd "$tmp" && "$tmp/venv/bin/python" -c 'import berth, sys
assert berth.__file__.startswith(sys.prefix), berth.__file__
ctx = berth.Context(root=sys.argv[1])
print(berth.version(), ctx.images.list(), ctx.containers.list(all=True))' "$tmp/pip-store")
	[ "$v" = "$(pkg-config --modversion libberth) [] []" ] || { echo "pip-installed berth said: $v"; exit 1; }
	ls "$tmp"/venv/lib/python3*/site-packages/berth.pyi > /dev/null || { echo "no berth.pyi beside the pip-installed module"; exit 1; }
	ok "pip install ./bindings/python in a virtualenv: built against the installed libberth, version $v"
fi
if [ -z "${ENABLE_LUA-x}" ] && [ -n "$LUA_BIN" ] && [ "$LUA_BIN" != no ]; then
	v=$(LUA_CPATH="$root$luacmoddir/?.so" LD_PRELOAD="$preload" "$LUA_BIN" -e 'print(require("berth").version())')
	[ -n "$v" ] && ok "lua: require berth from $luacmoddir: version $v"
fi
# luarocks make builds the module again from bindings/lua/berth-VERSION-1.rockspec
# against the installed library (pkg-config), into a tree of its own; from a
# copy, as pip's. ASan builds skip it (the rock is built without the sanitizer).
if [ -z "${ENABLE_LUA-x}" ] && [ -n "$LUA_BIN" ] && [ "$LUA_BIN" != no ] && [ -z "$SANITIZER_FLAGS" ] &&
	command -v luarocks > /dev/null; then
	ver=$(pkg-config --modversion libberth)
	[ -f "$srcdir/bindings/lua/berth-$ver-1.rockspec" ] ||
		{ echo "no bindings/lua/berth-$ver-1.rockspec for libberth $ver"; exit 1; }
	cp -r "$srcdir/bindings/lua" "$tmp/luasrc"
	chmod -R u+w "$tmp/luasrc"
	(cd "$tmp/luasrc" && luarocks --lua-version 5.4 make --tree "$tmp/rocks" "berth-$ver-1.rockspec") \
		> "$tmp/rocks.log" 2>&1 || { cat "$tmp/rocks.log"; exit 1; }
	v=$(cd "$tmp" && ROCK_STORE="$tmp/rock-store" LUA_CPATH="$tmp/rocks/lib/lua/5.4/?.so" "$LUA_BIN" -e '
		local berth = require("berth")
		assert(package.searchpath("berth", package.cpath):find("/rocks/", 1, true))
		local ctx = assert(berth.context{root = os.getenv("ROCK_STORE")})
		local n = 0
		for _ in ctx.containers:list{all = true} do n = n + 1 end
		print(berth.version() .. " " .. n)')
	[ "$v" = "$ver 0" ] || { echo "the rock's berth said: $v"; exit 1; }
	ok "luarocks make of bindings/lua/berth-$ver-1.rockspec: built against the installed libberth, loads"
fi
echo "$passed passed, 0 failed"
