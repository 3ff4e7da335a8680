#!/bin/sh
# The README's Python and Lua lines, as written: pull 127.0.0.1:5000/busybox,
# then containers.run("127.0.0.1:5000/busybox", ["echo", "hi"], remove=True)
# gives b"hi\n" (Python) and "hi\n", 0 (Lua). The registry listens on
# 127.0.0.1:5000 inside a network (and mount) namespace of this test's own,
# so the port is free whatever else runs and nothing leaves the namespace.
# Run by make check (AM_TESTS_ENVIRONMENT gives BERTH_MONITOR and the rest).
set -eu
: "${top_srcdir:?run this through make check}" "${top_builddir:?}"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root"; exit 77; fi
for tool in unshare ip docker-registry skopeo; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed (scripts/install-deps)"; exit 77; }
done
if [ "${1-}" != --inside ]; then
	exec unshare --net --mount --propagation private sh "$0" --inside
fi

ip link set lo up
tmp=$(mktemp -d /tmp/berth-readme-XXXXXX)
registry=
cleanup() {
	[ -n "$registry" ] && kill "$registry" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck disable=SC2046 # "ADDR PID"
set -- $(/usr/bin/python3 "$top_srcdir/tests/integration/lib/registry-serve.py" --port=5000 --prefix= \
	"$tmp/registry" busybox:busybox)
[ "${1-}" = 127.0.0.1:5000 ] || { echo "registry-serve said: $*"; exit 1; }
registry=$2
preload=
[ -n "${ASAN_RUNTIME-}" ] && preload=$ASAN_RUNTIME
passed=0

if [ -z "${ENABLE_PYTHON-x}" ]; then
	PYTHONPATH="$top_builddir/bindings/python/.libs:$top_srcdir/bindings/python" \
	LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 "${PYTHON:-python3}" - "$tmp/py" <<'EOF'
import sys
import berth
R, RR = sys.argv[1] + "/root", sys.argv[1] + "/run"
ctx = berth.Context(root=R, runroot=RR)
img = ctx.images.pull("127.0.0.1:5000/busybox")      # Python: berth.Image
out = berth.Context(root=R, runroot=RR).containers.run("127.0.0.1:5000/busybox", ["echo", "hi"], remove=True)
assert out == b"hi\n", out
assert ctx.containers.list(all=True) == [], "the container was not removed"
EOF
	printf '%s\n' "ok: Python's README lines gave b\"hi\\n\""
	passed=$((passed + 1))
fi
if [ -z "${ENABLE_LUA-x}" ] && [ -n "${LUA_BIN-}" ] && [ "$LUA_BIN" != no ]; then
	BERTH_MONITOR="$top_builddir/lib/container/.libs/berth-monitor"
	[ -x "$BERTH_MONITOR" ] || BERTH_MONITOR="$top_builddir/lib/container/berth-monitor"
	BERTH_MONITOR=$BERTH_MONITOR LUA_CPATH="$top_builddir/bindings/lua/.libs/?.so" LD_PRELOAD="$preload" \
		"$LUA_BIN" - "$tmp/lua" <<'EOF'
local berth = require "berth"
local ctx = assert(berth.context{root = arg[1] .. "/root", runroot = arg[1] .. "/run"})
local img = assert(ctx.images:pull("127.0.0.1:5000/busybox", {progress = function() end}))  -- Lua
local out, code = ctx.containers:run{image="127.0.0.1:5000/busybox", command={"echo","hi"}, remove=true}
assert(out == "hi\n" and code == 0, string.format("%q %s", tostring(out), tostring(code)))
for c in ctx.containers:list{all = true} do error("the container was not removed: " .. c:id()) end
ctx:close()
EOF
	printf '%s\n' "ok: Lua's README lines gave \"hi\\n\", 0"
	passed=$((passed + 1))
fi
[ "$passed" -gt 0 ] || { echo "SKIP: neither binding is built"; exit 77; }
echo "$passed passed, 0 failed"
