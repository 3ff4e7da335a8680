#!/bin/sh
# Pull + unpack: `berth pull` (berth_storage_pull: each layer unpacked
# into the layer store while it downloads; and, for reference, `berth pull
# --no-unpack` then unpack)
# against `skopeo copy` + `umoci unpack` and against `podman pull`
# (overlay driver: it unpacks too), side by side in one hyperfine run, from a
# docker-registry on 127.0.0.1 that this script starts and stops by PID
# (tests/integration/lib/registry.sh). In the same run, this machine's
# limits on the largest layer: reading the image's blobs, `gzip -dc` (zlib)
# and `igzip -dc` (ISA-L) of it, `tar -x` of it uncompressed, and
# `igzip -dc | tar -x` (inflate and extract on two cores, what a pull that
# inflates with ISA-L cannot beat). berth's inflater (`berth info`:
# inflate.gzip; BERTH_INFLATE=zlib forces the fallback) is printed first.
# Images: the tests' multi-layer image (4 layers, 50 MiB of random data) and
# one large layer of ~150 MB of /usr/share files.
#
#   bench/unpack.sh [BUILD_DIR]     (default: ./build; needs root)
#
# Results go to stdout and bench/results/unpack-*.json.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bench_need hyperfine podman umoci skopeo igzip
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (owners, overlay)"; exit 1; }
helper="$build/tests/integration/storage-helper"
[ -x "$helper" ] || { echo "bench: build the check programs first (make check)"; exit 1; }
lim=$REG_TMP/lim
inflater=$("$berth" info | sed -n 's/^inflate.gzip *//p')
echo "berth inflates gzip layers with: $inflater${BERTH_INFLATE:+ (BERTH_INFLATE=$BERTH_INFLATE)}"
for image in multi big; do
	# the limit's inputs: the image's blobs and its largest layer, from the layout
	layout=$REG_TMP/layout; [ "$image" = big ] && layout=$REG_TMP/big
	rm -rf "$lim" && skopeo copy -q "oci:$layout:$image" "oci:$lim:$image"
	blobs=$(ls -S "$lim/blobs/sha256/" | sed "s|^|$lim/blobs/sha256/|")
	largest=$(echo "$blobs" | head -n1)
	gzip -dc "$largest" > "$REG_TMP/largest.tar"
	hyperfine -N --runs "$runs" --export-json "$out/unpack-$image.json" \
		--prepare "$bench_fresh" \
		-n "berth pull" "$berth --root $t/b pull -q $R/bench/$image" \
		-n "berth pull --no-unpack, unpack" "sh -c '$berth --root $t/b pull -q --no-unpack $R/bench/$image >/dev/null && $helper $t/b $t/br unpack $R/bench/$image'" \
		-n "skopeo+umoci" "sh -c 'skopeo copy -q --src-tls-verify=false docker://$R/bench/$image oci:$t/s:$image && umoci unpack --image $t/s:$image $t/u >/dev/null'" \
		-n "podman pull" "podman --root $t/p --runroot $t/pr --storage-driver overlay pull -q --tls-verify=false $R/bench/$image" \
		-n "limit: read blobs" "cat $(echo $blobs)" \
		-n "limit: gzip -dc" "gzip -dc $largest" \
		-n "limit: igzip -dc" "igzip -dc $largest" \
		-n "limit: tar -x" "tar -xf $REG_TMP/largest.tar -C $t" \
		-n "limit: igzip -dc | tar -x" "sh -c 'igzip -dc $largest | tar -xf - -C $t'" \
		>/dev/null
	$PY - "$out/unpack-$image.json" "$image" "$inflater" <<'PY'
import json, statistics, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: statistics.median(v["times"]) * 1000 for k, v in res.items()}
b = med["berth pull"]
print(f"image {sys.argv[2]} (berth inflates with {sys.argv[3]}):")
for k, v in med.items():
    print(f"  {k:31s} median {v:8.1f} ms")
pipe = med["limit: igzip -dc | tar -x"]
zlib_limit = max(med["limit: read blobs"], med["limit: gzip -dc"], med["limit: tar -x"])
print(f"  berth / podman = {b / med['podman pull']:.2f}x (target <= 0.2), "
      f"berth / skopeo+umoci = {b / med['skopeo+umoci']:.2f}x")
print(f"  berth / (igzip -dc | tar -x) = {b / pipe:.2f}x (target <= 1.3), "
      f"berth / zlib's limit (slowest of read, gzip -dc, tar -x) = {b / zlib_limit:.2f}x")
PY
done
