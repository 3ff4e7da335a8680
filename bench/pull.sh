#!/bin/sh
# Pull speed: berth pull against `skopeo copy docker://... oci:DIR` and
# `podman pull` into a fresh store (--root tmp --storage-driver vfs), side by
# side in one hyperfine run, from a docker-registry on 127.0.0.1 that this
# script starts (tests/integration/lib/registry.sh) and stops by PID.
# Images: the tests' multi-layer image (4 layers, 50 MiB of random data) and
# one large layer made of ~150 MB of /usr/share files.
#
#   bench/pull.sh [BUILD_DIR]     (default: ./build)
#
# berth (--no-unpack) and skopeo download and verify only; podman also
# unpacks (vfs): bench/unpack.sh compares pull + unpack.
# Results go to stdout and bench/results/pull-*.json.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bench_need hyperfine podman skopeo
for image in multi big; do
	hyperfine -N --runs "$runs" --export-json "$out/pull-$image.json" \
		--prepare "$bench_fresh" \
		-n "berth pull" "$berth --root $t/b pull -q --no-unpack $R/bench/$image" \
		-n "skopeo copy" "skopeo copy -q --src-tls-verify=false docker://$R/bench/$image oci:$t/s:$image" \
		-n "podman pull" "podman --root $t/p --runroot $t/pr --storage-driver vfs pull -q --tls-verify=false $R/bench/$image" \
		>/dev/null
	$PY - "$out/pull-$image.json" "$image" "$(du -sm "$REG_DIR" | cut -f1)" <<'PY'
import json, statistics, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: statistics.median(v["times"]) * 1000 for k, v in res.items()}
print(f"image {sys.argv[2]}:")
for k in ("berth pull", "skopeo copy", "podman pull"):
    print(f"  {k:12s} median {med[k]:8.1f} ms  ({med[k] / med['berth pull']:.2f}x berth)")
print(f"  berth / skopeo = {med['berth pull'] / med['skopeo copy']:.2f}, berth / podman = {med['berth pull'] / med['podman pull']:.2f}")
PY
done
