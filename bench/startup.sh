#!/bin/sh
# Process start cost: `berth version` beside an empty C program and
# `crun --version`, measured side by side in one hyperfine run (the machine
# is shared and noisy, so only the ratios mean much).
#
#   bench/startup.sh [BUILD_DIR]     (default: ./build)
#
# Needs hyperfine and crun (Debian packages); results go to stdout and to
# bench/results/startup.json.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${RUNS:-200}
out="$here/results"; mkdir -p "$out"
tmp=$(mktemp -d /tmp/berth-bench-XXXXXX); trap 'rm -rf "$tmp"' EXIT

for tool in hyperfine crun cc; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install $tool)"; exit 1; }
done
printf 'int main(void) { return 0; }\n' > "$tmp/empty.c"
cc -O2 "$tmp/empty.c" -o "$tmp/empty"

# The real binary, not libtool's wrapper script; the library path is set for
# all three commands alike.
berth="$build/examples/berth/.libs/berth"
[ -x "$berth" ] || { echo "bench: build berth first ($berth missing)"; exit 1; }
export LD_LIBRARY_PATH="$build/lib/.libs"

hyperfine -N --warmup 20 --runs "$runs" --export-json "$out/startup.json" \
	-n empty "$tmp/empty" \
	-n "berth version" "$berth version" \
	-n "crun --version" "crun --version" >/dev/null

/usr/bin/python3 - "$out/startup.json" <<'PY'
import json, statistics, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: statistics.median(v["times"]) * 1000 for k, v in res.items()}
for k in ("empty", "berth version", "crun --version"):
    print(f"{k:16s} median {med[k]:6.2f} ms  ({med[k] / med['empty']:.2f}x empty)")
print(f"berth version / crun --version = {med['berth version'] / med['crun --version']:.2f}")
PY
