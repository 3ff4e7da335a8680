#!/bin/sh
# Start-up cost (DESIGN.md): libberth and the programs built on it must not
# load libcurl, libarchive, libcrypto or libnftables when they start; modules open those
# on first use. Checks the DT_NEEDED entries of each binary and what the
# dynamic loader actually maps for `berth version`.
set -eu
heavy='libcurl|libarchive|libcrypto|libssl|libgnutls|libnftables|libnftnl|libxtables|libgmp'
failed=0 passed=0
check_needed() {
	needed=$(${OBJDUMP:-objdump} -p "$1" | awk '$1 == "NEEDED" { print $2 }')
	if echo "$needed" | grep -Eq "$heavy"; then
		echo "FAIL: $1 needs: $(echo "$needed" | grep -E "$heavy" | tr '\n' ' ')"; failed=$((failed + 1))
	else
		echo "ok: $1 needs only: $(echo "$needed" | tr '\n' ' ')"; passed=$((passed + 1))
	fi
}
check_needed "$top_builddir/lib/.libs/libberth.so"
for prog in "$top_builddir"/examples/*/.libs/lt-* "$top_builddir"/examples/*/.libs/*; do
	[ -f "$prog" ] && [ -x "$prog" ] && check_needed "$prog"
done

# What is really mapped at start: the loader's own list for a run of `berth version`.
# (the binary itself, not libtool's wrapper script, whose shell would be listed too)
berth="$top_builddir/examples/berth/.libs/berth"
maps=$(LD_LIBRARY_PATH="$top_builddir/lib/.libs" LD_DEBUG=libs "$berth" version 2>&1 >/dev/null |
	sed -n 's/.*calling init: \(.*\)/\1/p' | sort -u)
if echo "$maps" | grep -Eq "$heavy"; then
	echo "FAIL: berth version loaded: $(echo "$maps" | grep -E "$heavy")"; failed=$((failed + 1))
elif [ -z "$maps" ]; then
	echo "FAIL: LD_DEBUG showed no libraries for berth version"; failed=$((failed + 1))
else
	echo "ok: berth version maps $(echo "$maps" | wc -l) libraries, none of them heavy"; passed=$((passed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
