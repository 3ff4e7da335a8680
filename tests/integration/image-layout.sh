#!/bin/sh
# The content store is a real OCI image layout: an image written by berth's
# store (config, one gzip layer made here with tar, manifest, tag) is read by
# skopeo and unpacked by umoci, and a layout that skopeo writes is read back
# by berth with every blob verified.
set -eu
helper="$top_builddir/tests/integration/image-layout-helper"
for tool in skopeo umoci tar gzip sha256sum; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (apt-get install -y skopeo umoci)"; exit 77
	fi
done
tmp=$(mktemp -d /tmp/berth-it-layout-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
die() { echo "FAIL: $*"; exit 1; }

# one layer from a couple of files
mkdir -p "$tmp/root/etc" "$tmp/root/srv"
echo "hello from berth" > "$tmp/root/srv/hello.txt"
echo "berth-test" > "$tmp/root/etc/hostname"
ln -s hello.txt "$tmp/root/srv/link"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$tmp/root" -cf "$tmp/layer.tar" .
gzip -n -c "$tmp/layer.tar" > "$tmp/layer.tar.gz"
diff_id="sha256:$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)"
layer_digest="sha256:$(sha256sum "$tmp/layer.tar.gz" | cut -d' ' -f1)"
case $(uname -m) in
x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;;
esac
cat > "$tmp/config.json" <<JSON
{"architecture":"$arch","os":"linux","created":"2024-01-01T00:00:00Z",
 "config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"],"Labels":{"org.example.test":"berth"}},
 "rootfs":{"type":"layers","diff_ids":["$diff_id"]},
 "history":[{"created":"2024-01-01T00:00:00Z","created_by":"berth image-layout test"}]}
JSON

layout="$tmp/layout"
manifest=$("$helper" write "$layout" v1 "$tmp/config.json" "$tmp/layer.tar.gz" "$layer_digest")
"$helper" write "$layout" docker.io/library/berth-test:latest "$tmp/config.json" \
	"$tmp/layer.tar.gz" "$layer_digest" > "$tmp/manifest2"
[ "$(cat "$tmp/manifest2")" = "$manifest" ] || die "the same image got another manifest digest"
ok "berth wrote the image, manifest $manifest"

# a wrong layer digest is refused and leaves no trace
wrong="sha256:$(printf x | sha256sum | cut -d' ' -f1)"
before=$(ls -A "$layout/blobs/sha256" | sort)
if "$helper" write "$layout" bad "$tmp/config.json" "$tmp/layer.tar.gz" "$wrong" 2> "$tmp/err"; then
	die "a layer with the wrong digest was accepted"
fi
grep -q "content has digest" "$tmp/err" || die "unexpected error: $(cat "$tmp/err")"
[ "$(ls -A "$layout/blobs/sha256" | sort)" = "$before" ] || die "the wrong layer left files behind"
ok "a layer with the wrong digest is refused, store unchanged"

# skopeo reads it
skopeo inspect "oci:$layout:v1" > "$tmp/inspect.json" || die "skopeo inspect failed"
grep -q "\"Digest\": \"$manifest\"" "$tmp/inspect.json" || die "skopeo saw another digest: $(cat "$tmp/inspect.json")"
grep -q "$layer_digest" "$tmp/inspect.json" || die "skopeo did not list the layer"
grep -q '"org.example.test": "berth"' "$tmp/inspect.json" || die "skopeo did not see the labels"
ok "skopeo inspect oci:<layout>:v1"
skopeo inspect --config "oci:$layout:docker.io/library/berth-test:latest" > "$tmp/config.out" ||
	die "skopeo inspect of the full reference tag failed"
grep -q "$diff_id" "$tmp/config.out" || die "skopeo's config lacks the diff_id"
ok "skopeo inspect --config oci:<layout>:docker.io/library/berth-test:latest"

# umoci unpacks it (rootless when not root)
rootless=
[ "$(id -u)" -eq 0 ] || rootless=--rootless
umoci unpack $rootless --image "$layout:v1" "$tmp/bundle" > "$tmp/umoci.log" 2>&1 ||
	die "umoci unpack failed: $(cat "$tmp/umoci.log")"
[ "$(cat "$tmp/bundle/rootfs/srv/hello.txt")" = "hello from berth" ] || die "unpacked file differs"
[ "$(readlink "$tmp/bundle/rootfs/srv/link")" = "hello.txt" ] || die "unpacked symlink differs"
[ -f "$tmp/bundle/config.json" ] || die "umoci made no runtime config"
ok "umoci unpack --image <layout>:v1"

# and the other way round: skopeo writes a layout, berth reads and verifies it
skopeo copy -q "oci:$layout:v1" "oci:$tmp/copy:copied" || die "skopeo copy failed"
"$helper" verify "$tmp/copy" > "$tmp/verify.out" || die "berth could not read skopeo's layout"
grep -q "^copied sha256:" "$tmp/verify.out" || die "berth did not find the tag: $(cat "$tmp/verify.out")"
grep -q "3 blobs verified" "$tmp/verify.out" || die "unexpected: $(cat "$tmp/verify.out")"
ok "berth reads and verifies a layout written by skopeo"
"$helper" verify "$layout" > "$tmp/verify2.out" || die "berth could not verify its own layout"
ok "berth verifies its own layout after skopeo and umoci read it"

echo "$passed passed, 0 failed"
