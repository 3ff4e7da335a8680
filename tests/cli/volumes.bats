#!/usr/bin/env bats
# Volumes, bind mounts and tmpfs mounts as a Docker user drives them
# (issue 13): berth volume create/ls/inspect/rm/prune, and -v, --mount,
# --tmpfs, --volumes-from, rm -v in real containers. Root only. Every
# container and volume lives in the test's store, removed in teardown.
bats_require_minimum_version 1.5.0
load lib/engine

setup_file() {
	engine_setup_file vol
}

teardown_file() {
	engine_teardown_file
}

setup() {
	engine_setup
}

teardown() {
	engine_remove_all
	"${B[@]}" volume prune -f >/dev/null 2>&1 || true
}

@test "the seed's course: data outlives its container, prune reclaims it" {
	run --separate-stderr "${B[@]}" volume create data
	[ "$status" -eq 0 ]
	[ "$output" = data ]
	"${B[@]}" run -d --name db -v data:/var/lib/db busybox sh -c 'echo rows > /var/lib/db/table; while :; do sleep 1; done'
	run --separate-stderr "${B[@]}" volume inspect data
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | /usr/bin/python3 -c 'import json,sys; v=json.load(sys.stdin)[0]; print(v["Name"], v["Driver"], v["Scope"], v["Mountpoint"].endswith("/volumes/data/_data"))')" = "data local local True" ]
	run "${B[@]}" volume inspect -f '{{.Name}} {{.Driver}}' data
	[ "$output" = "data local" ]
	run "${B[@]}" inspect -f '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.Driver}} {{.RW}}{{end}}' db
	[ "$output" = "volume data /var/lib/db local true" ]
	# the container holds it: prune leaves it, rm refuses, naming the holder
	run --separate-stderr "${B[@]}" volume prune -f
	[[ "$output" != *data* ]]
	id=$("${B[@]}" inspect -f '{{.Id}}' db)
	run --separate-stderr "${B[@]}" volume rm data
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"volume is in use"*"$id"* ]]
	# -f too, as Docker's: it forgives a missing volume, not one in use
	run --separate-stderr "${B[@]}" volume rm -f data no-such-volume
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"volume is in use"*"$id"* ]]
	[[ "$stderr" != *no-such-volume* ]]
	"${B[@]}" exec db cat /var/lib/db/table
	"${B[@]}" rm -f db
	run --separate-stderr "${B[@]}" run --rm -v data:/data busybox cat /data/table
	[ "$status" -eq 0 ]
	[ "$output" = rows ]
	run --separate-stderr "${B[@]}" volume prune -f
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Deleted Volumes:" ]
	[ "${lines[1]}" = data ]
	[[ "${lines[-1]}" =~ ^"Total reclaimed space: "[0-9.]+k?B$ ]]
	run "${B[@]}" volume ls -q
	[ -z "$output" ]
}

@test "volume ls filters, -q, --format; bad names refused" {
	"${B[@]}" volume create --label tier=db v1 >/dev/null
	"${B[@]}" volume create v2 >/dev/null
	"${B[@]}" create --name holder -v v2:/x busybox true >/dev/null
	run "${B[@]}" volume ls
	[ "${lines[0]}" = "DRIVER    VOLUME NAME" ]
	[ "${lines[1]}" = "local     v1" ]
	run "${B[@]}" volume ls -q --filter label=tier=db
	[ "$output" = v1 ]
	run "${B[@]}" volume ls -q --filter dangling=true
	[ "$output" = v1 ]
	run "${B[@]}" volume ls -q --filter dangling=false
	[ "$output" = v2 ]
	run "${B[@]}" volume ls --format '{{.Name}}:{{.Labels}}' --filter name=v1
	[ "$output" = "v1:tier=db" ]
	run --separate-stderr "${B[@]}" volume ls --filter colour=red
	[ "$status" -ne 0 ]
	for bad in ../x a/b .hidden x 'sp ace'; do
		run --separate-stderr "${B[@]}" volume create "$bad"
		[ "$status" -ne 0 ]
		[[ "$stderr" == *"invalid characters for a local volume name"* ]]
	done
	run --separate-stderr "${B[@]}" run --rm -v ../x:/x busybox true
	[ "$status" -ne 0 ]
	[ ! -e "$STORE/root/x" ]
	run --separate-stderr "${B[@]}" run --rm -v v1:relative busybox true
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"must be absolute"* ]]
	for dest in /a/../etc /.. /x/..; do
		run --separate-stderr "${B[@]}" create -v "v1:$dest" busybox true
		[[ "$stderr" == *'no ".."'* ]]
	done
	run --separate-stderr "${B[@]}" run --rm -v v1:/x -v v2:/x busybox true
	[[ "$stderr" == *"Duplicate mount point: /x"* ]]
	# a refused create holds nothing
	run "${B[@]}" volume ls -q --filter dangling=true
	[ "$output" = v1 ]
}

@test "two processes creating the same volume end with one and no error" {
	for i in 1 2 3 4 5 6; do "${B[@]}" volume create same >/dev/null & done
	wait
	run "${B[@]}" volume ls -q
	[ "$output" = same ]
}

@test "ro mounts refuse writes with EROFS; one volume rw in one container and ro in another" {
	"${B[@]}" run -d --name writer -v shared:/s busybox sh -c 'echo one > /s/f; while :; do sleep 1; done'
	sleep 0.5
	run --separate-stderr "${B[@]}" run --rm -v shared:/s:ro busybox sh -c 'cat /s/f; echo x > /s/g'
	[ "$status" -ne 0 ]
	[ "$output" = one ]
	[[ "$stderr" == *"Read-only file system"* ]]
	run --separate-stderr "${B[@]}" run --rm --mount type=volume,source=shared,target=/s,readonly busybox sh -c 'touch /s/h'
	[[ "$stderr" == *"Read-only file system"* ]]
	"${B[@]}" exec writer sh -c 'echo two >> /s/f'
	run "${B[@]}" run --rm -v shared:/s busybox cat /s/f
	[ "${lines[1]}" = two ]
	mkdir -p "$STORE/hostro"
	run --separate-stderr "${B[@]}" run --rm -v "$STORE/hostro:/h:ro" busybox sh -c 'touch /h/x'
	[[ "$stderr" == *"Read-only file system"* ]]
	[ ! -e "$STORE/hostro/x" ]
}

@test "tmpfs mounts hold their size: ENOSPC past it" {
	run --separate-stderr "${B[@]}" run --rm --tmpfs /t:size=64k busybox sh -c 'dd if=/dev/zero of=/t/z bs=1k count=100'
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"No space left on device"* ]]
	run --separate-stderr "${B[@]}" run --rm --mount type=tmpfs,target=/t,tmpfs-size=65536,tmpfs-mode=1770 busybox sh -c 'stat -c %a /t; dd if=/dev/zero of=/t/z bs=1k count=100'
	[ "${lines[0]}" = 1770 ]
	[[ "$stderr" == *"No space left on device"* ]]
	run "${B[@]}" run --rm --tmpfs /t busybox sh -c 'grep " /t " /proc/mounts'
	[[ "$output" == *"tmpfs /t tmpfs"*nosuid*nodev*noexec* ]]
	run "${B[@]}" run --rm --tmpfs /t:exec,mode=700,uid=5 busybox sh -c 'stat -c "%a %u" /t'
	[ "$output" = "700 5" ]
	# options tmpfs does not take are refused, bind above all (a host path)
	for o in rbind bind 'size=1m,rbind' 'x-foo'; do
		run -125 --separate-stderr "${B[@]}" run --rm --tmpfs "/t:$o" busybox true
		[[ "$stderr" == *"invalid --tmpfs"*"unknown option"* ]]
	done
	[ -z "$("${B[@]}" ps -aq)" ]
}

@test "--volumes-from sees the same data, ro when asked" {
	"${B[@]}" create --name src -v fromvol:/data -v "$STORE/fromhost:/host" busybox true >/dev/null
	[ -d "$STORE/fromhost" ]
	"${B[@]}" run --rm --volumes-from src busybox sh -c 'echo v > /data/a; echo h > /host/b'
	[ "$(cat "$STORE/fromhost/b")" = h ]
	run --separate-stderr "${B[@]}" run --rm --volumes-from src:ro busybox sh -c 'cat /data/a /host/b; touch /data/c'
	[ "${lines[0]}" = v ]
	[ "${lines[1]}" = h ]
	[[ "$stderr" == *"Read-only file system"* ]]
}

@test "binds: -v makes a missing source, --mount refuses it" {
	run --separate-stderr "${B[@]}" run --rm -v "$STORE/made/here:/m" busybox sh -c 'echo in > /m/f'
	[ "$status" -eq 0 ]
	[ "$(cat "$STORE/made/here/f")" = in ]
	run --separate-stderr "${B[@]}" run --rm --mount "type=bind,source=$STORE/not-there,target=/m" busybox true
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"bind source path does not exist: $STORE/not-there"* ]]
	[ ! -e "$STORE/not-there" ]
	run "${B[@]}" run --rm --mount "type=bind,source=$STORE/made,target=/m" busybox cat /m/here/f
	[ "$output" = in ]
	# a bind's propagation after its mode, as -v takes it, shown by inspect
	"${B[@]}" create --name prop -v "$STORE/made:/m:ro,rslave" busybox true >/dev/null
	run "${B[@]}" inspect -f '{{range .Mounts}}{{.Type}} {{.Source}} {{.Mode}} {{.RW}} {{.Propagation}}{{end}}' prop
	[ "$output" = "bind $STORE/made ro,rslave false rslave" ]
	"${B[@]}" rm prop >/dev/null
	run --separate-stderr "${B[@]}" create -v "$STORE/made:/m:rw,bogus" busybox true
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"invalid mode: bogus"* ]]
	run "${B[@]}" ps -aq
	[ -z "$output" ]
}

@test "an empty volume takes the image's content: owners, modes, symlinks; nocopy skips" {
	"${B[@]}" run --name prep busybox sh -c 'mkdir -p /srv/app/sub && echo cfg > /srv/app/f && chown 1234:5678 /srv/app/f && chmod 640 /srv/app/f && chmod 750 /srv/app/sub && ln -s /etc/passwd /srv/app/link && chown 42:43 /srv/app'
	"${B[@]}" commit prep withapp:v1 >/dev/null
	"${B[@]}" rm prep
	run --separate-stderr "${B[@]}" run --rm -v app:/srv/app withapp:v1 sh -c 'stat -c "%n %u %g %a" /srv/app/f /srv/app/sub /srv/app; readlink /srv/app/link'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/srv/app/f 1234 5678 640" ]
	[ "${lines[1]}" = "/srv/app/sub 0 0 750" ]
	[ "${lines[2]}" = "/srv/app 42 43 755" ]
	[ "${lines[3]}" = "/etc/passwd" ]
	data=$("${B[@]}" volume inspect -f '{{.Mountpoint}}' app)
	[ "$(stat -c '%u %g %a' "$data/f")" = "1234 5678 640" ]
	# a volume with content is not filled again
	"${B[@]}" run --rm -v app:/srv/app withapp:v1 sh -c 'rm /srv/app/f'
	run "${B[@]}" run --rm -v app:/srv/app withapp:v1 ls /srv/app
	[[ "$output" != *f$'\n'* && "$output" != f ]]
	run "${B[@]}" run --rm --mount type=volume,source=empty,target=/srv/app,volume-nocopy withapp:v1 sh -c 'ls -A /srv/app'
	[ -z "$output" ]
	run "${B[@]}" run --rm -v empty2:/srv/app:nocopy withapp:v1 sh -c 'ls -A /srv/app'
	[ -z "$output" ]
	"${B[@]}" rmi withapp:v1 >/dev/null
}

@test "rm -v removes the anonymous volumes, not the named ones; --rm too" {
	"${B[@]}" create --name anon -v /a -v keep:/k busybox true >/dev/null
	anonvol=$("${B[@]}" inspect -f '{{range .Mounts}}{{if eq .Destination "/a"}}{{.Name}}{{end}}{{end}}' anon)
	[[ "$anonvol" =~ ^[0-9a-f]{64}$ ]]
	run "${B[@]}" volume inspect -f '{{json .Labels}}' "$anonvol"
	[ "$output" = '{"com.docker.volume.anonymous":""}' ]
	"${B[@]}" rm -v anon
	run "${B[@]}" volume ls -q
	[ "$output" = keep ]
	"${B[@]}" run --rm -v /b busybox true
	run "${B[@]}" volume ls -q
	[ "$output" = keep ]
	# without -v the anonymous volume stays, as in Docker
	"${B[@]}" create --name anon2 -v /a busybox true >/dev/null
	"${B[@]}" rm anon2
	[ "$("${B[@]}" volume ls -q | wc -l)" -eq 2 ]
}

@test "named volumes of driver options: a tmpfs and a bind, mounted while used" {
	mkdir -p "$STORE/bindsrc"
	echo from-host > "$STORE/bindsrc/f"
	"${B[@]}" volume create -o type=tmpfs -o device=tmpfs -o o=size=64k tv >/dev/null
	"${B[@]}" volume create -o type=none -o device="$STORE/bindsrc" -o o=bind bv >/dev/null
	tdata=$("${B[@]}" volume inspect -f '{{.Mountpoint}}' tv)
	! grep -q " $tdata " /proc/self/mounts
	# the record keeps the driver's options (a cifs password, say): root's alone
	[ "$(stat -c %a "${tdata%/_data}/volume.json")" = 600 ]
	"${B[@]}" run -d --name tuser -v tv:/t -v bv:/b busybox sh -c 'while :; do sleep 1; done'
	grep -q " $tdata tmpfs" /proc/self/mounts
	run --separate-stderr "${B[@]}" exec tuser sh -c 'cat /b/f; dd if=/dev/zero of=/t/z bs=1k count=100'
	[ "$output" = from-host ]
	[[ "$stderr" == *"No space left on device"* ]]
	"${B[@]}" exec tuser sh -c 'echo back > /b/g'
	[ "$(cat "$STORE/bindsrc/g")" = back ]
	run "${B[@]}" volume inspect -f '{{.Options.type}} {{.Options.device}}' tv
	[ "$output" = "tmpfs tmpfs" ]
	"${B[@]}" stop -t 1 tuser >/dev/null
	! grep -q " $tdata " /proc/self/mounts
	"${B[@]}" rm tuser
	"${B[@]}" volume rm tv bv
	# the bind volume's removal leaves the host directory alone
	[ "$(cat "$STORE/bindsrc/f")" = from-host ]
}

# busybox with VOLUME /etc in its config: a copy of the test image's
# manifest and config in its layout, tagged busyvol, copied into the store
make_volume_image() {
	/usr/bin/python3 - "$STORE/layout" <<'PY'
import hashlib, json, os, sys
layout = sys.argv[1]
def blob(digest):
    with open(os.path.join(layout, "blobs", *digest.split(":")), "rb") as f:
        return json.load(f)
def put(obj):
    data = json.dumps(obj, sort_keys=True).encode()
    hexd = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", hexd), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + hexd, "size": len(data)}
index = blob_index = json.load(open(os.path.join(layout, "index.json")))
desc = next(m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "busybox")
manifest = blob(desc["digest"])
config = blob(manifest["config"]["digest"])
config["config"]["Volumes"] = {"/etc": {}}
manifest["config"].update(put(config))
m = put(manifest)
m.update({"mediaType": desc["mediaType"], "annotations": {"org.opencontainers.image.ref.name": "busyvol"}})
index["manifests"].append(m)
json.dump(index, open(os.path.join(layout, "index.json"), "w"))
PY
	skopeo copy -q "oci:$STORE/layout:busyvol" "oci:$STORE/root/content:docker.io/library/busyvol:latest"
}

@test "the image's VOLUMEs: an anonymous volume each, filled from the image, yielding to -v" {
	make_volume_image
	"${B[@]}" create --name iv busyvol true >/dev/null
	vol=$("${B[@]}" inspect -f '{{range .Mounts}}{{.Name}} {{.Destination}}{{end}}' iv)
	[[ "$vol" =~ ^[0-9a-f]{64}" /etc"$ ]]
	vol=${vol%% *}
	# the generated /etc files stay over a volume on /etc, as in Docker
	run "${B[@]}" run --rm --hostname gen busyvol cat /etc/hostname
	[ "$output" = gen ]
	"${B[@]}" start iv >/dev/null
	"${B[@]}" wait iv >/dev/null
	data=$("${B[@]}" volume inspect -f '{{.Mountpoint}}' "$vol")
	[ "$(cat "$data/hostname")" = berth-test ]
	# a -v at the same path takes its place
	run "${B[@]}" create --name iv2 -v named:/etc busyvol true
	run "${B[@]}" inspect -f '{{range .Mounts}}{{.Name}}{{end}}' iv2
	[ "$output" = named ]
	"${B[@]}" rm -v iv iv2 >/dev/null
	run "${B[@]}" volume ls -q
	[ "$output" = named ]
}
