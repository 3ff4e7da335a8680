#!/bin/sh
# Runs the pytest suite of the Python binding against the build tree.
# Automake's harness exports top_srcdir, top_builddir, PYTHON, ENABLE_PYTHON
# ("" when the binding is built, "#" when not) and ASAN_RUNTIME (libasan.so
# of a --enable-sanitizers build, else empty). Exit 77 means skipped.

: "${top_srcdir:?top_srcdir is not set (run this through make check)}"
: "${top_builddir:?top_builddir is not set (run this through make check)}"
PYTHON=${PYTHON:-python3}

if [ -n "${ENABLE_PYTHON-}" ]; then
	echo "SKIP: the Python binding is not built (--disable-python, or configure found no Python 3 headers)"
	exit 77
fi
if ! "$PYTHON" -m pytest --version >/dev/null 2>&1; then
	echo "SKIP: '$PYTHON -m pytest' does not work; install pytest (Debian: python3-pytest)"
	exit 77
fi
if [ ! -f "$top_builddir/bindings/python/.libs/berth.so" ]; then
	echo "FAIL: $top_builddir/bindings/python/.libs/berth.so was not built"
	exit 1
fi

# the runtime tests' bundle (as root): see the file
binding_name=py
. "$top_srcdir/tests/integration/lib/binding-bundle.sh"

# the module, and the object layer it imports from the sources
PYTHONPATH="$top_builddir/bindings/python/.libs:$top_srcdir/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH PYTHONDONTWRITEBYTECODE
if [ -n "${ASAN_RUNTIME-}" ]; then
	# The interpreter is not instrumented: the ASan runtime has to come first.
	# CPython itself is not leak-clean, so leak checking stays off.
	LD_PRELOAD="$ASAN_RUNTIME${LD_PRELOAD:+ $LD_PRELOAD}"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	export LD_PRELOAD ASAN_OPTIONS
fi

"$PYTHON" -m pytest -q -p no:cacheprovider "$top_srcdir/tests/python"
rc=$?
if [ "$rc" -eq 5 ]; then
	echo "FAIL: pytest collected no tests"
	exit 1
fi
exit "$rc"
