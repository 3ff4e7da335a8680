#!/bin/sh
# libberth exports exactly the functions its headers declare, each at a
# version node BERTH_<major>.<minor>, and nothing else (no internal bt_ names, no
# libraries' symbols leaking through).
set -eu
lib="$top_builddir/lib/.libs/libberth.so"
sym="$top_srcdir/lib/libberth.sym"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# nm -D --defined-only: "ADDR T name@@BERTH_0.1"; the version node itself is an A symbol.
${NM:-nm} -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sort > "$tmp/exported"
test -s "$tmp/exported" || { echo "no symbols exported from $lib"; exit 1; }

bad=$(grep -Ev '^berth_[a-z0-9_]*@@BERTH_[0-9]+\.[0-9]+$' "$tmp/exported" || true)
if [ -n "$bad" ]; then
	echo "symbols outside berth_*@@BERTH_<version>:"; echo "$bad"; exit 1
fi

# every function declared BERTH_EXTERN in the installed headers is exported, and vice versa
cat "$top_srcdir"/include/berth/*.h | tr '\n' ' ' | sed 's/;/;\n/g' |
	sed -n 's/.*BERTH_EXTERN[^(]*[ *]\(berth_[a-z0-9_]*\) *(.*/\1/p' | sort -u > "$tmp/declared"
sed -E 's/@@BERTH_[0-9]+\.[0-9]+$//' "$tmp/exported" > "$tmp/names"
if ! diff -u "$tmp/declared" "$tmp/names"; then
	echo "headers (-) and exports (+) differ"; exit 1
fi
# and the version script lists the same names
sed -n 's/^[[:space:]]*\(berth_[a-z0-9_]*\);$/\1/p' "$sym" | sort > "$tmp/script"
if ! diff -u "$tmp/script" "$tmp/names"; then
	echo "lib/libberth.sym (-) and exports (+) differ"; exit 1
fi
# one public prefix per header: berth_<word> of every function and type a
# header declares belongs to that header alone (berth_runtime_* is the OCI
# runtime's, berth_container_* the engine's, in container.h)
for h in "$top_srcdir"/include/berth/*.h; do
	tr '\n' ' ' < "$h" | sed 's/;/;\n/g' |
		sed -n -e 's/.*BERTH_EXTERN[^(]*[ *]\(berth_[a-z0-9_]*\) *(.*/\1/p' \
			-e 's/.*}[[:space:]]*\(berth_[a-z0-9_]*\)[[:space:]]*;.*/\1/p' \
			-e 's/.*typedef[^;(]*[[:space:]]\(berth_[a-z0-9_]*\)[[:space:]]*;.*/\1/p' \
			-e 's/.*typedef[^;]*(\*[[:space:]]*\(berth_[a-z0-9_]*\)).*/\1/p' |
		sed 's/^\(berth_[a-z0-9]*\).*/\1/' | sort -u | sed "s|\$| $(basename "$h")|"
done > "$tmp/prefixes"
shared=$(awk '{ n[$1]++; h[$1] = h[$1] " " $2 } END { for (p in n) if (n[p] > 1) print p ":" h[p] }' "$tmp/prefixes")
if [ -n "$shared" ]; then
	echo "prefixes declared in more than one header:"; echo "$shared"; exit 1
fi
if grep '^berth_container ' "$tmp/prefixes" | grep -qv 'container\.h'; then
	echo "berth_container_* is the engine's prefix; the OCI runtime's calls are berth_runtime_*"; exit 1
fi
echo "1 passed, 0 failed: $(wc -l < "$tmp/names") symbols, all berth_*@@BERTH_<version> and declared"
