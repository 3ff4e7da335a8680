#!/bin/sh
# Pulls from a real registry (Debian's docker-registry on 127.0.0.1, plain
# HTTP) seeded by skopeo with images built offline: every blob compared with
# the registry's, inspect fields, platforms, digests, schema2; then the bad
# inputs, each with a clear error and the store byte-identical afterwards;
# then two pulls of one image at once.
set -eu
. "$(dirname "$0")/lib/registry.sh"
berth="$top_builddir/examples/berth/berth"
helper="$top_builddir/tests/integration/registry-helper"
reg_setup
root=$REG_TMP/root
b() { "$berth" --root "$root" "$@"; }

reg_images
reg_start plain plain
R=$REG_ADDR
reg_seed "$R" busybox berth-test/busybox
reg_seed "$R" multi berth-test/multi
reg_seed "$R" index berth-test/index --all
reg_seed "$R" multi berth-test/multi-v2s2 --format v2s2
reg_seed "$R" victim berth-test/victim
ok "registry at $R seeded"

# every blob of the store is the registry's, byte for byte
same_blobs() {
	for f in "$root"/content/blobs/sha256/*; do
		d=sha256:$(basename "$f")
		cmp -s "$f" "$(reg_blob_path "$REG_DIR" "$d")" || die "blob $d differs from the registry's"
		[ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || die "blob $d does not match its name"
	done
}

b pull "$R/berth-test/busybox" > "$REG_TMP/out" || die "pull busybox"
grep -q "Pull complete" "$REG_TMP/out" || die "no per-layer lines: $(cat "$REG_TMP/out")"
same_blobs
ok "pull busybox (plain HTTP on loopback), blobs identical to the registry's"
[ -n "$(find "$root/storage/layers" -path '*/diff/bin/busybox' -type f)" ] || die "pull did not unpack"
b pull --no-unpack "$R/berth-test/busybox" > /dev/null || die "pull --no-unpack"
"$berth" --root "$REG_TMP/blobs-only" pull -q --no-unpack "$R/berth-test/busybox" > /dev/null || die "pull --no-unpack"
[ -d "$REG_TMP/blobs-only/content" ] && [ ! -e "$REG_TMP/blobs-only/storage/layers.json" ] || die "--no-unpack unpacked"
ok "pull unpacks the layers as it downloads; --no-unpack keeps the blobs only"

b pull "$R/berth-test/multi" > "$REG_TMP/out" || die "pull multi"
grep -q "Already exists" "$REG_TMP/out" || die "the shared busybox layer was downloaded again"
same_blobs
b image inspect "$R/berth-test/multi" > "$REG_TMP/inspect.json"
$PY - "$REG_TMP/inspect.json" "$R" <<'EOF' || die "inspect fields"
import json, sys
i = json.load(open(sys.argv[1]))[0]
assert i["RepoTags"] == [sys.argv[2] + "/berth-test/multi:latest"], i["RepoTags"]
assert i["Architecture"] == "amd64" and i["Os"] == "linux"
assert i["Created"] == "2024-01-01T00:00:00Z"
assert i["Entrypoint"] == ["/bin/sh", "-c"] and i["Cmd"] == ["echo hi"]
assert i["ExposedPorts"] == ["53/udp", "80/tcp"], i["ExposedPorts"]
assert i["Labels"] == {"maintainer": "berth", "org.example.test": "multi"}
assert len(i["Layers"]) == 4 and i["Layers"][3]["Size"] > 50 * 1024 * 1024
assert i["Size"] == sum(l["Size"] for l in i["Layers"]) + len(json.dumps(i["Config"])) or i["Size"] > 52000000
EOF
[ "$(b history -q "$R/berth-test/multi" | wc -l)" = 5 ] || die "history: $(b history "$R/berth-test/multi")"
b history "$R/berth-test/multi" | grep -q "50 MiB" || die "history lacks the comment"
ok "pull multi (4 layers, 50 MiB), shared layer not downloaded again, inspect and history"

manifest=$(b images --digests | awk '$1 ~ /multi$/ { print $3 }')
skopeo inspect --raw --tls-verify=false "docker://$R/berth-test/multi:latest" | sha256sum | grep -q "${manifest#sha256:}" \
	|| die "manifest digest $manifest is not the registry's"
b pull "$R/berth-test/multi@$manifest" > /dev/null || die "pull by digest"
b images | grep -q "multi" || die "images"
[ "$(b images -q | wc -l)" = 3 ] || die "images -q: $(b images -q)"
# one JSON object per line, as docker images --format json prints them
b images --format json | $PY -c 'import json,sys; a = [json.loads(l) for l in sys.stdin]; assert len(a) == 3 and all(x["Digest"].startswith("sha256:") for x in a)' \
	|| die "images --format json"
ok "pull by digest; images, -q, --digests, --format json"

b pull "$R/berth-test/multi-v2s2" > /dev/null || die "pull schema2"
grep -q "application/vnd.docker.distribution.manifest.v2+json" "$root/content/index.json" || die "schema2 not stored as such"
ok "pull a Docker schema2 copy"

b pull "$R/berth-test/index" > /dev/null || die "pull index"
b image inspect "$R/berth-test/index" | grep -q '"Architecture": "amd64"' || die "index: not amd64"
b pull --platform linux/arm64 "$R/berth-test/index" > /dev/null || die "pull index arm64"
b image inspect "$R/berth-test/index" | grep -q '"Architecture": "arm64"' || die "index: not arm64"
b pull --platform linux/arm64/v8 "$R/berth-test/index" > /dev/null || die "pull index arm64/v8"
reg_snapshot "$root" > "$REG_TMP/before"
fails "no manifest for platform linux/s390x in the index (it has: linux/amd64, linux/arm64/v8)" \
	b pull --platform linux/s390x "$R/berth-test/index"
fails "platform \"Linux\"" b pull --platform Linux "$R/berth-test/index"
unchanged "unknown platform"
ok "index: linux/amd64 by default, arm64 and arm64/v8 on request, unknown platform refused"

b tag "$R/berth-test/busybox" mybox:v1 || die "tag"
b image inspect mybox:v1 | grep -q "docker.io/library/mybox:v1" || die "tag not listed"
b rmi mybox:v1 > /dev/null || die "rmi tag"
fails "no image" b image inspect mybox:v1
id=$(b images -q | head -1)
b image inspect "$id" > /dev/null || die "inspect by ID prefix"
b tag "$R/berth-test/busybox" mybox:v2 || die "tag again"
fails "image is tagged 2 times" b rmi "$(b image inspect mybox:v2 | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])')"
b rmi mybox:v2 > /dev/null || die "rmi tag"
ok "tag, rmi of a tag, lookup by ID prefix; rmi by digest of an image tagged twice needs -f"

# ---- bad input: clear errors, store unchanged ------------------------------
reg_snapshot "$root" > "$REG_TMP/before"
fails "registry answered 404" b pull "$R/berth-test/nothing-here"
fails "MANIFEST_UNKNOWN" b pull "$R/berth-test/busybox:no-such-tag"
unchanged "404"
ok "unknown image and tag: 404 with the registry's reason"

blob=$(skopeo inspect --raw --tls-verify=false "docker://$R/berth-test/victim:latest" | $PY -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
data=$(reg_blob_path "$REG_DIR" "$blob")
cp "$data" "$REG_TMP/victim.orig"
$PY - "$data" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100)
    b = f.read(1)
    f.seek(100)
    f.write(bytes([b[0] ^ 0xff]))
EOF
fails "content has digest" b pull "$R/berth-test/victim"
unchanged "corrupt blob"
cp "$REG_TMP/victim.orig" "$data"
ok "a blob that does not match its digest is refused, store unchanged (config removed again)"

down=$(reg_free_port)
start=$(date +%s)
fails "reaching registry: GET https://127.0.0.1:$down/v2/" b pull "127.0.0.1:$down/berth-test/busybox"
grep -q -i "connect" "$REG_TMP/err" || die "no connection error: $(cat "$REG_TMP/err")"
[ $(($(date +%s) - start)) -lt 20 ] || die "a registry that is down took too long"
unchanged "registry down"
ok "a registry that is down: connection refused after retries, in seconds"

printf '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": ' > "$REG_TMP/malformed"
echo 'application/vnd.oci.image.manifest.v1+json' > "$REG_TMP/malformed.type"
reg_proxy manifest "$REG_TMP/malformed"
fails "manifest: malformed JSON at line 1" b pull "$PROXY_ADDR/berth-test/victim"
unchanged "malformed manifest"
ok "a malformed manifest is refused with its line and column"

$PY -c 'import json; print(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "annotations": {"pad": "x" * (5 << 20)}}))' > "$REG_TMP/big"
echo 'application/vnd.oci.image.manifest.v1+json' > "$REG_TMP/big.type"
reg_proxy manifest "$REG_TMP/big"
fails "larger than the 4194304 bytes allowed" b pull "$PROXY_ADDR/berth-test/victim"
unchanged "oversized manifest"
ok "an oversized manifest (5 MiB) is refused"

echo '{"schemaVersion": 2, "mediaType": "application/vnd.example.unknown+json", "layers": []}' > "$REG_TMP/unknown"
echo 'application/vnd.example.unknown+json' > "$REG_TMP/unknown.type"
reg_proxy manifest "$REG_TMP/unknown"
fails 'unknown media type "application/vnd.example.unknown+json"' b pull "$PROXY_ADDR/berth-test/victim"
unchanged "unknown media type"
echo '{"schemaVersion": 1, "name": "x", "tag": "latest", "fsLayers": []}' > "$REG_TMP/schema1"
echo 'application/vnd.docker.distribution.manifest.v1+prettyjws' > "$REG_TMP/schema1.type"
reg_proxy manifest "$REG_TMP/schema1"
fails "schema 1 is deprecated and not supported" b pull "$PROXY_ADDR/berth-test/victim"
unchanged "schema 1"
ok "an unknown media type and a schema 1 manifest are refused"

"$helper" cancel "$root" "$R/berth-test/victim" > "$REG_TMP/out" 2>&1 || die "cancel: $(cat "$REG_TMP/out")"
grep -q "cancelled by the progress callback" "$REG_TMP/out" || die "cancel: $(cat "$REG_TMP/out")"
unchanged "cancel"
ok "a pull cancelled from the progress callback leaves the store as it was"

if [ "$(id -u)" = 0 ]; then
	mount --bind "$root/content" "$root/content"
	REG_MOUNTS="$root/content"
	mount -o remount,bind,ro "$root/content"
	fails "Read-only file system" b pull "$R/berth-test/victim"
	umount "$root/content"
	REG_MOUNTS=
else
	chmod -R a-w "$root/content/blobs"
	fails "Permission denied" b pull "$R/berth-test/victim"
	chmod -R u+w "$root/content/blobs"
fi
unchanged "unwritable store"
ok "an unwritable store: the error names the path, nothing changes"

# ---- a connection cut mid-blob: the retry resumes with Range ----------------
reg_proxy cut 3000000
root2=$REG_TMP/root2
"$berth" --root "$root2" pull "$PROXY_ADDR/berth-test/multi" > /dev/null || die "pull through a cutting proxy"
grep -q "bytes=3000000-" "$PROXY_LOG" || die "no resume: $(cat "$PROXY_LOG")"
for f in "$root2"/content/blobs/sha256/*; do
	[ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || die "resumed blob is damaged"
done
ok "a connection cut after 3 MB: the retry resumed at byte 3000000 and the blob verified"

reg_proxy cutfull 3000000
root5=$REG_TMP/root5
"$berth" --root "$root5" pull "$PROXY_ADDR/berth-test/multi" > /dev/null || die "pull through a proxy that cannot resume"
for f in "$root5"/content/blobs/sha256/*; do
	[ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || die "restarted blob is damaged"
done
rm -rf "$root5"
ok "a server that ignores Range after a cut: the blob starts over and verifies"

# ---- retries: 5xx and 429 are retried with backoff, 4xx never -----------------
reg_proxy status 503 2
"$berth" --root "$root5" pull "$PROXY_ADDR/berth-test/victim" > /dev/null || die "pull after two 503s"
[ "$(grep -c '/blobs/' "$PROXY_LOG")" -ge 3 ] || die "503 not retried: $(cat "$PROXY_LOG")"
rm -rf "$root5"
reg_proxy status 429 1
"$berth" --root "$root5" pull "$PROXY_ADDR/berth-test/victim" > /dev/null || die "pull after a 429"
rm -rf "$root5"
reg_proxy status 403 100
fails "registry answered 403 Forbidden: UNAVAILABLE: injected by the test proxy" \
	"$berth" --root "$root5" pull "$PROXY_ADDR/berth-test/victim"
[ "$(grep -c '/blobs/' "$PROXY_LOG")" = 1 ] || die "403 was retried: $(cat "$PROXY_LOG")"
reg_proxy status 503 100
fails "registry answered 503" "$berth" --root "$root5" pull "$PROXY_ADDR/berth-test/victim"
[ "$(grep -c '/blobs/' "$PROXY_LOG")" = 4 ] || die "503 not tried 1 + 3 times: $(cat "$PROXY_LOG")"
ok "503 and 429 are retried and the pull succeeds; 403 fails at once; 503 for ever gives up after 3 retries"

# ---- the layer sink (storage's hook) gets every byte, verified --------------
root3=$REG_TMP/root3
"$helper" sink "$root3" "$R/berth-test/multi" > "$REG_TMP/sink" || die "sink pull"
[ "$(grep -c ' verified$' "$REG_TMP/sink")" = 4 ] || die "sink: $(cat "$REG_TMP/sink")"
"$helper" sink "$root3" "$R/berth-test/multi" > "$REG_TMP/sink" || die "sink pull again"
[ "$(grep -c ' verified$' "$REG_TMP/sink")" = 4 ] || die "sink replay: $(cat "$REG_TMP/sink")"
ok "a layer sink gets each layer's bytes (downloaded, then replayed from the store)"

# ---- two processes pull the same image at once ------------------------------
root4=$REG_TMP/root4
"$berth" --root "$root4" pull "$R/berth-test/multi" > "$REG_TMP/p1" 2>&1 &
p1=$!
"$berth" --root "$root4" pull "$R/berth-test/multi" > "$REG_TMP/p2" 2>&1 &
p2=$!
wait $p1 || die "first concurrent pull: $(cat "$REG_TMP/p1")"
wait $p2 || die "second concurrent pull: $(cat "$REG_TMP/p2")"
[ "$(grep -c '"org.opencontainers.image.ref.name"' "$root4/content/index.json")" = 1 ] || die "index.json: $(cat "$root4/content/index.json")"
[ -z "$(find "$root4/content/blobs" -name '.tmp-*')" ] || die "temp files left"
for f in "$root4"/content/blobs/sha256/*; do
	[ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || die "blob damaged by concurrent pulls"
done
skopeo inspect "oci:$root4/content:$R/berth-test/multi:latest" > /dev/null || die "skopeo cannot read the store"
ok "two processes pulling the same image at once both succeed; the store verifies and skopeo reads it"

# ---- remove and gc ------------------------------------------------------------
before=$(ls "$root/content/blobs/sha256" | wc -l)
b rmi "$R/berth-test/multi-v2s2" > /dev/null || die "rmi"
b rmi "$R/berth-test/multi" > /dev/null || die "rmi multi"
b rmi "$R/berth-test/multi@$manifest" > /dev/null || die "rmi by digest ref"
after=$(ls "$root/content/blobs/sha256" | wc -l)
[ "$after" -lt "$before" ] || die "rmi freed nothing ($before -> $after)"
[ -f "$root/content/blobs/sha256/$(b images --digests | awk '$1 ~ /busybox$/ { print $3 }' | cut -d: -f2)" ] || die "busybox lost"
b image inspect "$R/berth-test/busybox" > /dev/null || die "busybox broken by rmi"
b image prune > /dev/null || die "prune"
ok "rmi frees the blobs no other image uses ($before -> $after), others intact; prune"

echo "passed: $passed"
