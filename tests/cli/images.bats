#!/usr/bin/env bats
# Image commands as Docker users read and script them, against a real
# registry (tests/cli/lib/registry.bash): pull -q, --format, sizes, times.
bats_require_minimum_version 1.5.0
load lib/registry

setup_file() {
	cli_registry_start
	STORE=$(mktemp -d /tmp/berth-cli-images-XXXXXX)
	export STORE
	B=("$BERTH" --root "$STORE/root" --runroot "$STORE/run")
	for name in busybox victim index; do
		"${B[@]}" pull -q "$REG_ADDR/$name" >/dev/null
	done
}

teardown_file() {
	if [ -n "${STORE:-}" ]; then
		"$BERTH" --root "$STORE/root" --runroot "$STORE/run" image unmount "$REG_ADDR/busybox" >/dev/null 2>&1 || true
		rm -rf "$STORE"
	fi
	cli_registry_stop
}

setup() {
	B=("$BERTH" --root "$STORE/root" --runroot "$STORE/run")
}

@test "pull -q prints the reference asked for, fully qualified (issue case 1)" {
	# multiarch and busybox share a manifest: -q names the one asked for
	run --separate-stderr "${B[@]}" pull -q "$REG_ADDR/multiarch"
	"${B[@]}" rmi "$REG_ADDR/multiarch" >/dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "$REG_ADDR/multiarch:latest" ]
	run --separate-stderr "${B[@]}" pull -q "$REG_ADDR/busybox:latest"
	[ "$output" = "$REG_ADDR/busybox:latest" ]
}

@test "image inspect --format after the image (issue case 2)" {
	run --separate-stderr "${B[@]}" image inspect "$REG_ADDR/busybox" --format '{{.Id}}'
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	run --separate-stderr "${B[@]}" image inspect -f '{{.Os}}/{{.Architecture}} {{len .RootFS.Layers}} {{json .RepoTags}}' "$REG_ADDR/busybox"
	[ "$output" = "linux/amd64 1 [\"$REG_ADDR/busybox:latest\"]" ]
	run --separate-stderr "${B[@]}" image inspect --format '{{range .Config.Env}}{{.}};{{end}}' "$REG_ADDR/busybox"
	[ "$status" -eq 0 ]
	[[ "$output" == *"PATH="* ]]
}

@test "images: Docker's columns, human times, one size with inspect (issue case 4)" {
	run --separate-stderr "${B[@]}" images
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
	line=$(printf '%s\n' "$output" | grep "^$REG_ADDR/busybox ")
	# the fixture images are from 2024-01-01: whole years, never a cut timestamp
	[[ "$line" =~ \ [0-9]+\ (years|months)\ ago\ +[0-9.]+(B|kB|MB)$ ]]
	[[ "$output" != *T00:00* ]]
	size=$("${B[@]}" images --format '{{.Size}}' "$REG_ADDR/busybox")
	bytes=$("${B[@]}" image inspect --format '{{.Size}}' "$REG_ADDR/busybox")
	want=$("$FORMAT_RENDER" --size "$bytes")
	[ "$size" = "$want" ]
}

@test "images -q, --no-trunc, --digests, --format json and table" {
	id=$("${B[@]}" image inspect --format '{{.Id}}' "$REG_ADDR/victim")
	run "${B[@]}" images -q
	[ "${#lines[@]}" -eq 3 ]
	printf '%s\n' "${lines[@]}" | grep -qx "${id:7:12}"
	run "${B[@]}" images --no-trunc --format '{{.ID}}'
	printf '%s\n' "${lines[@]}" | grep -qx "$id"
	run "${B[@]}" images --digests
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +DIGEST\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
	[[ "$output" == *" sha256:"* ]]
	run "${B[@]}" images --format json
	[ "${#lines[@]}" -eq 3 ]
	printf '%s\n' "$output" | /usr/bin/python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    assert d["CreatedAt"] == "2024-01-01T00:00:00Z", d
    assert len(d["ID"]) == 12 and d["Tag"] == "latest", d'
	run "${B[@]}" images --format 'table {{.Repository}}\t{{.Tag}}'
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG$ ]]
}

@test "history: newest step first, Docker's columns" {
	run --separate-stderr "${B[@]}" history "$REG_ADDR/busybox"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^IMAGE\ +CREATED\ +CREATED\ BY\ +SIZE\ +COMMENT$ ]]
	id=$("${B[@]}" image inspect --format '{{.Id}}' "$REG_ADDR/busybox")
	[[ "${lines[1]}" == "${id:7:12} "* ]]
	[[ "${lines[1]}" == *" ago "* ]]
	run "${B[@]}" history -q "$REG_ADDR/busybox"
	[ "${lines[0]}" = "${id:7:12}" ]
	run "${B[@]}" history --no-trunc --format '{{.ID}}' "$REG_ADDR/busybox"
	[ "${lines[0]}" = "$id" ]
}

@test "system df: Docker's columns and sizes" {
	run --separate-stderr "${B[@]}" system df
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^TYPE\ +TOTAL\ +ACTIVE\ +SIZE\ +RECLAIMABLE$ ]]
	[[ "$output" =~ Images\ +3\ +N/A\ +[0-9.]+(kB|MB)\ +[0-9.]+(B|kB|MB)\ \([0-9]+%\) ]]
	run "${B[@]}" system df --format '{{.Type}}={{.TotalCount}}'
	printf '%s\n' "${lines[@]}" | grep -qx 'Images=3'
}

@test "progress and errors in order when stdout and stderr share a file (issue case 5)" {
	"${B[@]}" pull "$REG_ADDR/nosuch" > "$STORE/out" 2>&1 && false
	head -1 "$STORE/out" | grep -q "^Pulling $REG_ADDR/nosuch"
	tail -1 "$STORE/out" | grep -q '^berth: '
	# and through a pipe
	"${B[@]}" pull "$REG_ADDR/nosuch" 2>&1 | cat > "$STORE/out2"
	head -1 "$STORE/out2" | grep -q "^Pulling $REG_ADDR/nosuch"
}
