#!/bin/sh
# Runs the Lua binding's tests (tests/lua/test_*.lua) against the module
# in the build tree. Run by `make check` with top_srcdir, top_builddir,
# LUA_BIN, ENABLE_LUA and ASAN_RUNTIME exported (see AM_TESTS_ENVIRONMENT).
# Exit 77 tells the harness the test was skipped.

if [ -n "${ENABLE_LUA}" ]; then
	echo "SKIP: the Lua binding is not built (configure found no Lua 5.4 headers, or --disable-lua)"
	exit 77
fi
if [ -z "${LUA_BIN}" ] || [ "${LUA_BIN}" = no ]; then
	echo "SKIP: no Lua 5.4 interpreter (configure found neither lua5.4 nor lua)"
	exit 77
fi
: "${top_srcdir:?top_srcdir is not set}"
: "${top_builddir:?top_builddir is not set}"

# the runtime tests' bundle (as root): see the file
binding_name=lua
. "$top_srcdir/tests/integration/lib/binding-bundle.sh"

LUA_CPATH="${top_builddir}/bindings/lua/.libs/?.so;;"
# the engine's monitor from the build tree
# the monitor's real program, not libtool's wrapper script: under the ASan
# runtime preloaded below the wrapper's sed would print a leak report of its
# own into the container's output (the monitor gets the caller's stdio)
BERTH_MONITOR="${top_builddir}/lib/container/.libs/berth-monitor"
[ -x "$BERTH_MONITOR" ] || BERTH_MONITOR="${top_builddir}/lib/container/berth-monitor"
LD_LIBRARY_PATH="${top_builddir}/lib/.libs${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
export BERTH_MONITOR LD_LIBRARY_PATH
# the default seccomp profile from the source tree
export BERTH_DATADIR="${top_srcdir}/data"
export LUA_CPATH

if [ -n "${ASAN_RUNTIME}" ]; then
	# The module is built with -fsanitize=address but the interpreter is not:
	# the ASan runtime must be loaded first. lua5.4 itself frees everything
	# at exit (the test ends with os.exit(code, true), which closes the
	# state), so leak checking stays on.
	LD_PRELOAD="${ASAN_RUNTIME}${LD_PRELOAD:+ ${LD_PRELOAD}}"
	ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:${ASAN_OPTIONS}}"
	export LD_PRELOAD ASAN_OPTIONS
fi

# not exec: the EXIT trap removes the bundle and its cgroups
rc=0
for t in test_berth test_runtime test_images test_objects; do
	"${LUA_BIN}" "${top_srcdir}/tests/lua/$t.lua"
	case $? in
	0) ;;
	77) echo "$t skipped" ;; # test_images, test_objects without root, docker-registry or skopeo
	*) rc=1 ;;
	esac
done
# the network methods, inside namespaces of the test's own (removed after)
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && command -v nsenter >/dev/null; then
	netns=bt-lua-$$
	netroot=$(mktemp -d /tmp/berth-lua-net-XXXXXX)
	ip netns add "$netns-host" && ip netns add "$netns-ct" &&
		nsenter --net="/run/netns/$netns-host" "${LUA_BIN}" "${top_srcdir}/tests/lua/test_network.lua" \
			"$netroot" "/run/netns/$netns-ct" || rc=1
	ip netns del "$netns-host" 2>/dev/null
	ip netns del "$netns-ct" 2>/dev/null
	rm -rf "$netroot"
fi
exit $rc
