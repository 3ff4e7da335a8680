#!/usr/bin/env bats
# The engine's operations on existing containers, as a Docker user drives
# them: exec, pause, unpause, restart, rename, top, container prune, and
# ps --filter/-n, on the kernel's real namespaces, cgroups and mounts. The
# image is busybox-static made offline and copied into the store with
# skopeo. Root only. Every container is removed, and every monitor ended
# by its PID, in teardown.
bats_require_minimum_version 1.5.0
load lib/engine

setup_file() {
	engine_setup_file ops
}

teardown_file() {
	engine_teardown_file
}

setup() {
	engine_setup
}

# removes what a test made, even when it failed
teardown() {
	engine_remove_all
}

loop='trap "exit 0" TERM; while :; do sleep 0.1; done'

@test "exec: the container's env, -u -w -e, exit codes passed through, 127, -i, -d" {
	"${B[@]}" run -d --name x1 -e FROM_RUN=yes busybox sh -c "$loop" >/dev/null
	run --separate-stderr "${B[@]}" exec x1 sh -c 'echo "$FROM_RUN $(id -u) $(pwd) $HOSTNAME"; exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = "yes 0 / $("${B[@]}" container inspect -f '{{.Config.Hostname}}' x1)" ]
	run --separate-stderr "${B[@]}" exec -u 1000:1001 -w /tmp -e FROM_RUN=no -e NEW=1 x1 sh -c 'echo "$(id -u):$(id -g) $(pwd) $FROM_RUN $NEW"'
	[ "$status" -eq 0 ]
	[ "$output" = "1000:1001 /tmp no 1" ]
	# the process is in the container: its pid namespace, its root
	run "${B[@]}" exec x1 sh -c 'cat /proc/1/cmdline | tr "\0" " "; ls /proc | grep -c "^[0-9]"'
	[[ "${lines[0]}" == "sh -c trap"* ]]
	run -127 --separate-stderr "${B[@]}" exec x1 no-such-command
	[[ "$stderr" == *"process.args[0]"* ]]
	run -126 --separate-stderr "${B[@]}" exec x1 /etc/hostname
	run -125 --separate-stderr "${B[@]}" exec -u nobody x1 true
	[[ "$stderr" == *"unable to find user nobody"* ]]
	# stdin only with -i
	run bash -c "echo piped | $BERTH --root $STORE/root --runroot $STORE/run exec -i x1 cat"
	[ "$output" = "piped" ]
	run bash -c "echo piped | $BERTH --root $STORE/root --runroot $STORE/run exec x1 cat"
	[ "$output" = "" ]
	# -d returns before the process ends; it goes on in the container
	run "${B[@]}" exec -d x1 sh -c 'sleep 3; echo late > /tmp/late'
	[ "$status" -eq 0 ]
	run "${B[@]}" exec x1 cat /tmp/late
	[ "$status" -ne 0 ]
	for i in $(seq 100); do "${B[@]}" exec x1 cat /tmp/late 2>/dev/null | grep -q late && break; sleep 0.1; done
	run "${B[@]}" exec x1 cat /tmp/late
	[ "$output" = "late" ]
}

@test "exec -t gives the process a terminal" {
	"${B[@]}" run -d --name xt busybox sh -c "$loop" >/dev/null
	run script -qec "$BERTH --root $STORE/root --runroot $STORE/run exec -t xt sh -c 'tty; echo \$TERM; exit 4'" /dev/null
	[ "$status" -eq 4 ]
	[[ "${lines[0]}" == /dev/pts/* ]]
	[[ "${lines[1]}" == xterm* ]]
	# and -it takes what is typed there
	run script -qec "printf 'echo typed-\$((6*7))\nexit 0\n' | $BERTH --root $STORE/root --runroot $STORE/run exec -i -t xt sh" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *typed-42* ]]
}

@test "exec: bad input: unknown container, stopped container, no command, bad flag" {
	run --separate-stderr "${B[@]}" exec no-such-container true
	[ "$status" -eq 1 ]
	[ "$stderr" = "berth: No such container: no-such-container" ]
	"${B[@]}" create --name stopped busybox true >/dev/null
	run --separate-stderr "${B[@]}" exec stopped true
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"container stopped is not running"* ]]
	run --separate-stderr "${B[@]}" exec stopped
	[ "$status" -eq 125 ]
	[[ "$stderr" == *'"berth exec" requires at least 2 arguments'* ]]
	run --separate-stderr "${B[@]}" exec --no-such-flag stopped true
	[ "$status" -eq 125 ]
	run --separate-stderr "${B[@]}" exec -w relative stopped true
	[ "$status" -ne 0 ]
}

@test "pause freezes every process; ps and inspect say paused; unpause thaws; rm -f of a paused one" {
	id=$("${B[@]}" run -d --name p1 busybox sh -c 'while :; do echo tick; sleep 0.1; done')
	for i in $(seq 50); do [ "$("${B[@]}" logs p1 | wc -l)" -gt 1 ] && break; sleep 0.1; done
	run "${B[@]}" pause p1
	[ "$status" -eq 0 ]
	[ "$output" = "p1" ]
	before=$("${B[@]}" logs p1 | wc -l)
	sleep 1
	[ "$("${B[@]}" logs p1 | wc -l)" -eq "$before" ]
	run "${B[@]}" ps --format '{{.Names}} {{.State}} {{.Status}}'
	[[ "$output" == "p1 paused Up "*" (Paused)" ]]
	run "${B[@]}" container inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Paused}}' p1
	[ "$output" = "paused true true" ]
	run --separate-stderr "${B[@]}" pause p1
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"Container p1 is already paused"* ]]
	run --separate-stderr "${B[@]}" exec p1 true
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is paused, unpause the container before exec"* ]]
	run "${B[@]}" unpause p1
	[ "$status" -eq 0 ]
	for i in $(seq 50); do [ "$("${B[@]}" logs p1 | wc -l)" -gt "$before" ] && break; sleep 0.1; done
	[ "$("${B[@]}" logs p1 | wc -l)" -gt "$before" ]
	run "${B[@]}" container inspect -f '{{.State.Status}} {{.State.Paused}}' p1
	[ "$output" = "running false" ]
	run --separate-stderr "${B[@]}" unpause p1
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"Container p1 is not paused"* ]]
	# a frozen container still goes with rm -f (SIGKILL, then thawed)
	"${B[@]}" pause p1
	run timeout 30 "${B[@]}" rm -f p1
	[ "$status" -eq 0 ]
	[ ! -e "$STORE/root/containers/$id" ]
	run --separate-stderr "${B[@]}" pause no-such-container
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"No such container: no-such-container"* ]]
	"${B[@]}" create --name created busybox true >/dev/null
	run --separate-stderr "${B[@]}" pause created
	[[ "$stderr" == *"Container created is not running"* ]]
}

@test "restart: a running container gets a new process, a stopped one starts" {
	"${B[@]}" run -d --name r1 busybox sh -c "$loop" >/dev/null
	pid=$("${B[@]}" container inspect -f '{{.State.Pid}}' r1)
	run "${B[@]}" restart -t 1 r1
	[ "$status" -eq 0 ]
	[ "$output" = "r1" ]
	run "${B[@]}" container inspect -f '{{.State.Status}} {{.State.Pid}}' r1
	[[ "$output" == "running "* ]]
	[ "${output#running }" != "$pid" ]
	"${B[@]}" run --name r2 busybox true
	run "${B[@]}" restart r2
	[ "$status" -eq 0 ]
	run "${B[@]}" wait r2
	[ "$output" = "0" ]
	run "${B[@]}" container inspect -f '{{.State.StartedAt}}' r2
	[ -n "$output" ]
	run --separate-stderr "${B[@]}" restart no-such-container
	[ "$status" -eq 1 ]
	run --separate-stderr "${B[@]}" restart -t soon r1
	[ "$status" -eq 125 ]
}

@test "rename: the new name names it, the old one is free; used, same and bad names refused" {
	id=$("${B[@]}" run -d --name old busybox sh -c "$loop")
	"${B[@]}" create --name taken busybox true >/dev/null
	run "${B[@]}" rename old new
	[ "$status" -eq 0 ]
	run "${B[@]}" container inspect -f '{{.Id}} {{.Name}}' new
	[ "$output" = "$id /new" ]
	run "${B[@]}" ps --format '{{.Names}}'
	[ "$output" = "new" ]
	run --separate-stderr "${B[@]}" container inspect old
	[ "$status" -ne 0 ]
	"${B[@]}" create --name old busybox true >/dev/null
	run --separate-stderr "${B[@]}" rename new taken
	[ "$status" -eq 1 ]
	[[ "$stderr" == *'"/taken" is already in use by container'* ]]
	[ "$("${B[@]}" container inspect -f '{{.Name}}' new)" = /new ]
	run --separate-stderr "${B[@]}" rename new new
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"same name as its current name"* ]]
	run --separate-stderr "${B[@]}" rename new 'bad/name'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"Invalid container name (bad/name)"* ]]
	run --separate-stderr "${B[@]}" rename no-such-container x
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"No such container: no-such-container"* ]]
	run --separate-stderr "${B[@]}" rename new
	[ "$status" -eq 125 ]
	# the names directory holds exactly one link per container
	[ "$(ls "$STORE/root/containers/names" | sort | tr '\n' ' ')" = "new old taken " ]
}

@test "top lists the container's processes with ps's columns" {
	"${B[@]}" run -d --name t1 busybox sh -c 'sleep 1000 & while :; do sleep 0.1; done' >/dev/null
	init=$("${B[@]}" container inspect -f '{{.State.Pid}}' t1)
	for i in $(seq 50); do "${B[@]}" top t1 | grep -q 'sleep 1000' && break; sleep 0.1; done
	run "${B[@]}" top t1
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD$ ]]
	echo "$output" | grep -Eq "^root +$init +[0-9]+ +[0-9]+ +[0-9:A-Za-z]+ +\? +00:00:0[0-9] +sh -c sleep 1000"
	echo "$output" | grep -Eq "^root +[0-9]+ +$init .* sleep 1000$"
	"${B[@]}" create --name t2 busybox true >/dev/null
	run --separate-stderr "${B[@]}" top t2
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"Container t2 is not running"* ]]
	run --separate-stderr "${B[@]}" top no-such-container
	[ "$status" -eq 1 ]
}

@test "container prune removes what does not run, reports the space, keeps the running" {
	keep=$("${B[@]}" run -d --name keep busybox sh -c "$loop")
	"${B[@]}" run --name gone1 busybox sh -c 'dd if=/dev/zero of=/big bs=1k count=2048 2>/dev/null'
	gone1=$("${B[@]}" container inspect -f '{{.Id}}' gone1)
	gone2=$("${B[@]}" create --name gone2 busybox true)
	run "${B[@]}" container prune -f
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Deleted Containers:" ]
	[ "$(printf '%s\n' "${lines[1]}" "${lines[2]}" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$gone1" "$gone2" | sort | tr '\n' ' ')" ]
	[[ "${lines[3]}" =~ ^Total\ reclaimed\ space:\ 2\.[0-9]+MB$ ]]
	[ ! -e "$STORE/root/containers/$gone1" ]
	[ ! -e "$STORE/root/containers/$gone2" ]
	run "${B[@]}" ps -a -q --no-trunc
	[ "$output" = "$keep" ]
	# their names are free again
	"${B[@]}" create --name gone1 busybox true >/dev/null
	# without -f it asks, and no is no
	run bash -c "echo n | $BERTH --root $STORE/root --runroot $STORE/run container prune"
	[[ "$output" == *"Are you sure you want to continue? [y/N]"* ]]
	"${B[@]}" container inspect gone1 >/dev/null
	run "${B[@]}" container prune --help
	[ "$status" -eq 0 ]
	[[ "$output" == "Usage: berth container prune"* ]]
}

@test "ps --filter name/id/status/exited/label/ancestor/before/since/health, -n and -l" {
	"${B[@]}" run -d --name web-1 -l tier=front busybox sh -c "$loop" >/dev/null
	run -2 "${B[@]}" run --name job-1 -l tier=back -l batch busybox sh -c 'exit 2'
	sleep 0.01
	"${B[@]}" create --name web-2 busybox true >/dev/null
	run "${B[@]}" ps -a --filter name=web --format '{{.Names}}'
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "web-1 web-2 " ]
	run "${B[@]}" ps --filter name=web --format '{{.Names}}'
	[ "$output" = "web-1" ]
	run "${B[@]}" ps --filter status=exited --format '{{.Names}}'
	[ "$output" = "job-1" ]
	run "${B[@]}" ps -f status=created -f status=exited --format '{{.Names}}'
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "job-1 web-2 " ]
	run "${B[@]}" ps -a --filter exited=2 --format '{{.Names}}'
	[ "$output" = "job-1" ]
	run "${B[@]}" ps -a --filter label=tier=front --format '{{.Names}}'
	[ "$output" = "web-1" ]
	run "${B[@]}" ps -a --filter label=batch --format '{{.Names}}'
	[ "$output" = "job-1" ]
	run "${B[@]}" ps -a --filter label=tier --filter name=job --format '{{.Names}}'
	[ "$output" = "job-1" ]
	run "${B[@]}" ps -a --filter ancestor=busybox --format '{{.Names}}'
	[ "${#lines[@]}" -eq 3 ]
	run "${B[@]}" ps -a --filter ancestor=docker.io/library/busybox:latest -q
	[ "${#lines[@]}" -eq 3 ]
	run "${B[@]}" ps -a --filter ancestor=other --format '{{.Names}}'
	[ -z "$output" ]
	id=$("${B[@]}" container inspect -f '{{.Id}}' job-1)
	run "${B[@]}" ps -a --filter "id=${id:0:10}" --format '{{.Names}}'
	[ "$output" = "job-1" ]
	# -n N: the N newest, of any state; -l: the newest
	run "${B[@]}" ps -n 2 --format '{{.Names}}'
	[ "$(echo "$output" | tr '\n' ' ')" = "web-2 job-1 " ]
	run "${B[@]}" ps -l --format '{{.Names}}'
	[ "$output" = "web-2" ]
	# before=/since=: created before or after the one named; health=
	run "${B[@]}" ps -a --filter before=web-2 --format '{{.Names}}'
	[ "$(echo "$output" | tr '\n' ' ')" = "job-1 web-1 " ]
	run "${B[@]}" ps -a --filter since=web-1 --format '{{.Names}}'
	[ "$(echo "$output" | tr '\n' ' ')" = "web-2 job-1 " ]
	run "${B[@]}" ps -a --filter since=web-1 --filter before=web-2 --format '{{.Names}}'
	[ "$output" = "job-1" ]
	run "${B[@]}" ps --filter since=web-1 --format '{{.Names}}'
	[ -z "$output" ]
	run "${B[@]}" ps -a --filter health=none -q
	[ "${#lines[@]}" -eq 3 ]
	run "${B[@]}" ps -a --filter health=healthy -q
	[ -z "$output" ]
	run --separate-stderr "${B[@]}" ps -a --filter before=no-such
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"No such container: no-such"* ]]
	run --separate-stderr "${B[@]}" ps --filter colour=red
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"invalid filter 'colour=red'"* ]]
	run --separate-stderr "${B[@]}" ps -n many
	[ "$status" -eq 125 ]
}

@test "every new command has --help and is in the container group" {
	for c in exec pause unpause restart rename top cp export diff stats update commit; do
		run "${B[@]}" "$c" --help
		[ "$status" -eq 0 ]
		[[ "${lines[0]}" == "Usage: berth $c "* ]]
		run "${B[@]}" container "$c" --help
		[ "$status" -eq 0 ]
		run "${B[@]}" container --help
		[[ "$output" == *"  $c "* ]]
		# stats without a name shows every running container
		[ "$c" = stats ] && continue
		run "${B[@]}" "$c"
		[ "$status" -eq 125 ]
	done
	# events is top-level only, as in Docker
	run "${B[@]}" events --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Usage: berth events "* ]]
	# export --help on a terminal is still help
	run script -qec "$BERTH export --help" /dev/null
	[ "$status" -eq 0 ]
}

@test "cp: host to container and back, files and directories, owners and modes kept, tar streams" {
	id=$("${B[@]}" run -d --name cp1 busybox sh -c "$loop")
	mkdir -p "$STORE/src/dir/sub" "$STORE/back"
	echo one > "$STORE/src/dir/a"
	echo two > "$STORE/src/dir/sub/b"
	chown 1234:5678 "$STORE/src/dir/a"
	chmod 0640 "$STORE/src/dir/a"
	ln -s a "$STORE/src/dir/link"
	run "${B[@]}" cp "$STORE/src/dir" cp1:/tmp/
	[ "$status" -eq 0 ]
	run "${B[@]}" exec cp1 sh -c 'stat -c "%u:%g %a" /tmp/dir/a; cat /tmp/dir/a /tmp/dir/sub/b; readlink /tmp/dir/link'
	[ "$output" = $'1234:5678 640\none\ntwo\na' ]
	# to a new name; a relative host path
	echo single > "$STORE/src/file"
	(cd "$STORE/src" && "${B[@]}" cp file cp1:/tmp/renamed)
	run "${B[@]}" exec cp1 cat /tmp/renamed
	[ "$output" = single ]
	# back: into an existing directory, and to a new name
	"${B[@]}" exec cp1 sh -c 'echo made-inside > /made; chown 42:43 /made; chmod 0604 /made'
	"${B[@]}" cp cp1:/tmp/dir "$STORE/back/"
	[ "$(stat -c '%u:%g %a' "$STORE/back/dir/a")" = "1234:5678 640" ]
	[ "$(cat "$STORE/back/dir/sub/b")" = two ]
	"${B[@]}" cp cp1:/made "$STORE/back/copied"
	[ "$(cat "$STORE/back/copied")" = made-inside ]
	[ "$(stat -c '%u:%g %a' "$STORE/back/copied")" = "42:43 604" ]
	# tar streams: - as the destination or the source
	run bash -c "$BERTH --root $STORE/root --runroot $STORE/run cp cp1:/tmp/dir - | tar -tf - | sort"
	[ "$output" = $'dir/\ndir/a\ndir/link\ndir/sub/\ndir/sub/b' ]
	tar -cf - -C "$STORE/src" file | "${B[@]}" cp - cp1:/tmp
	run "${B[@]}" exec cp1 cat /tmp/file
	[ "$output" = single ]
	# a container that does not run: its snapshot is mounted for the copy only
	"${B[@]}" stop -t 1 cp1 >/dev/null
	"${B[@]}" cp "$STORE/src/file" cp1:/stopped-copy
	"${B[@]}" cp cp1:/stopped-copy "$STORE/back/"
	[ "$(cat "$STORE/back/stopped-copy")" = single ]
	! grep -q "$id" /proc/self/mounts
}

@test "cp: no copy leaves the container's root, whatever its symlinks or the tar say" {
	"${B[@]}" run -d --name esc busybox sh -c 'echo container > /etc/os-release; ln -s / /escape; ln -s ../../../.. /up; while :; do sleep 0.1; done' >/dev/null
	for i in $(seq 50); do "${B[@]}" exec esc sh -c 'test -L /up' && break; sleep 0.1; done
	name=berth-cp-escape-$$-$RANDOM
	echo secret > "$STORE/$name"
	run "${B[@]}" cp "$STORE/$name" esc:/escape/tmp/
	[ "$status" -eq 0 ]
	[ ! -e "/tmp/$name" ]
	run "${B[@]}" exec esc cat "/tmp/$name"
	[ "$output" = secret ]
	run "${B[@]}" cp "$STORE/$name" "esc:/up/tmp/up-$name"
	[ "$status" -eq 0 ]
	[ ! -e "/tmp/up-$name" ]
	run "${B[@]}" exec esc cat "/tmp/up-$name"
	[ "$output" = secret ]
	# reading through them gives the container's files, never the host's
	"${B[@]}" cp esc:/escape/etc/os-release "$STORE/os-release-out"
	[ "$(cat "$STORE/os-release-out")" = container ]
	"${B[@]}" cp esc:/up/etc/os-release "$STORE/os-release-up"
	[ "$(cat "$STORE/os-release-up")" = container ]
	# a tar whose entries climb out, or write through a symlink of its own
	/usr/bin/python3 - "$STORE/evil.tar" "$name" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    data = b"pwned\n"
    i = tarfile.TarInfo("../../../../tmp/dotdot-" + sys.argv[2]); i.size = len(data)
    t.addfile(i, io.BytesIO(data))
PY
	run "${B[@]}" cp - esc:/tmp < "$STORE/evil.tar"
	[ "$status" -eq 1 ]
	[[ "$output" == *"escape"* || "$output" == *"leave"* || "$output" == *".."* ]]
	[ ! -e "/tmp/dotdot-$name" ]
	run "${B[@]}" exec esc ls "/tmp/dotdot-$name"
	[ "$status" -ne 0 ]
	/usr/bin/python3 - "$STORE/evil2.tar" "$name" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    l = tarfile.TarInfo("hop"); l.type = tarfile.SYMTYPE; l.linkname = "/tmp"
    t.addfile(l)
    data = b"pwned\n"
    i = tarfile.TarInfo("hop/link-" + sys.argv[2]); i.size = len(data)
    t.addfile(i, io.BytesIO(data))
PY
	run "${B[@]}" cp - esc:/escape < "$STORE/evil2.tar"
	[ "$status" -eq 1 ]
	[ ! -e "/tmp/link-$name" ]
	run "${B[@]}" exec esc ls "/tmp/link-$name"
	[ "$status" -ne 0 ]
}

@test "cp: bad input: unknown container, missing path, two local paths, usage" {
	"${B[@]}" run -d --name cpb busybox sh -c "$loop" >/dev/null
	echo x > "$STORE/x"
	run --separate-stderr "${B[@]}" cp "$STORE/x" no-such-container:/tmp
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"No such container: no-such-container"* ]]
	run --separate-stderr "${B[@]}" cp cpb:/no/such/file "$STORE/out"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"Could not find the file /no/such/file in container"* ]]
	[ ! -e "$STORE/out" ]
	run --separate-stderr "${B[@]}" cp "$STORE/x" "$STORE/y"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"must specify at least one container source"* ]]
	run --separate-stderr "${B[@]}" cp - cpb:/no/such/dir < /dev/null
	[ "$status" -eq 1 ]
	"${B[@]}" create --name cpro --read-only busybox true >/dev/null
	run --separate-stderr "${B[@]}" cp "$STORE/x" cpro:/tmp
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"container rootfs is marked read-only"* ]]
	run --separate-stderr "${B[@]}" cp "$STORE/x"
	[ "$status" -eq 125 ]
	run "${B[@]}" cp --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Usage: berth cp "* ]]
}

@test "export writes the root file system as a tar; -o; never to a terminal" {
	"${B[@]}" run --name ex1 busybox sh -c 'echo exported > /marker'
	run bash -c "$BERTH --root $STORE/root --runroot $STORE/run export ex1 | tar -tf -"
	[ "$status" -eq 0 ]
	echo "$output" | grep -qx 'marker'
	echo "$output" | grep -qx 'bin/busybox'
	"${B[@]}" export -o "$STORE/ex1.tar" ex1
	[ "$(tar -xOf "$STORE/ex1.tar" marker)" = exported ]
	run script -qec "$BERTH --root $STORE/root --runroot $STORE/run export ex1" /dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"cowardly refusing to save to a terminal"* ]]
	run --separate-stderr "${B[@]}" export -o "$STORE/none.tar" no-such-container
	[ "$status" -eq 1 ]
	[ ! -e "$STORE/none.tar" ]
	! grep -q "$("${B[@]}" container inspect -f '{{.Id}}' ex1)" /proc/self/mounts
}

@test "diff lists what was added, changed and deleted against the image" {
	"${B[@]}" run --name d1 busybox sh -c 'echo new > /added; mkdir /newdir; echo x > /newdir/f; chmod 700 /bin/busybox; rm /bin/ls'
	run "${B[@]}" diff d1
	[ "$status" -eq 0 ]
	echo "$output" | grep -qx 'A /added'
	echo "$output" | grep -qx 'A /newdir'
	echo "$output" | grep -qx 'A /newdir/f'
	echo "$output" | grep -qx 'C /bin'
	echo "$output" | grep -qx 'C /bin/busybox'
	echo "$output" | grep -qx 'D /bin/ls'
	! echo "$output" | grep -q ' /bin/sh$'
	# in path order
	[ "$(echo "$output" | cut -c3- | sort | tr '\n' ' ')" = "$(echo "$output" | cut -c3- | tr '\n' ' ')" ]
	# the image mounted for the call is unmounted after it
	! grep -q " $STORE/run/storage/images/" /proc/self/mounts
	run --separate-stderr "${B[@]}" diff no-such-container
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"No such container: no-such-container"* ]]
}

@test "stats --no-stream shows CPU, memory, pids, net and block I/O; update changes a running container's limits and keeps them" {
	id=$("${B[@]}" run -d --name s1 -m 64m busybox sh -c 'sleep 1000 & while :; do :; done')
	run --separate-stderr "${B[@]}" stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}' s1
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^s1\ [0-9]+\.[0-9]{2}%\ [0-9.]+(B|KiB|MiB)\ /\ 64MiB\ 2$ ]]
	cpu=${output#s1 }
	# a busy loop takes a good share of a CPU even on a shared machine
	[ "${cpu%%.*}" -ge 20 ]
	# no links but lo (--network none): nothing through them; block I/O as
	# the blkio or io controller counts it
	run "${B[@]}" stats --no-stream --format '{{.NetIO}}|{{.BlockIO}}' s1
	[[ "$output" =~ ^0B\ /\ 0B\|[0-9.]+(B|kB|MB)\ /\ [0-9.]+(B|kB|MB)$ ]]
	run "${B[@]}" stats --no-stream
	[[ "${lines[0]}" =~ ^CONTAINER\ ID\ +NAME\ +CPU\ %\ +MEM\ USAGE\ /\ LIMIT\ +MEM\ %\ +NET\ I/O\ +BLOCK\ I/O\ +PIDS$ ]]
	[[ "${lines[1]}" == "${id:0:12}   s1 "* ]]
	run "${B[@]}" update -m 128m --pids-limit 50 --cpus 0.25 s1
	[ "$status" -eq 0 ]
	[ "$output" = s1 ]
	run "${B[@]}" stats --no-stream --format '{{.MemUsage}} {{.CPUPerc}}' s1
	[[ "$output" == *" / 128MiB "* ]]
	cpu=${output##* }
	[ "${cpu%%.*}" -le 40 ]
	[ "$(cat /sys/fs/cgroup/pids/berth/"$id"-*/pids.max 2>/dev/null || cat /sys/fs/cgroup/berth/"$id"-*/pids.max)" = 50 ]
	run "${B[@]}" container inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}}' s1
	[ "$output" = "134217728 50 250000000" ]
	# the next start applies them too
	"${B[@]}" restart -t 1 s1 >/dev/null
	run "${B[@]}" stats --no-stream --format '{{.MemUsage}}' s1
	[[ "$output" == *" / 128MiB" ]]
	[ "$(cat /sys/fs/cgroup/pids/berth/"$id"-*/pids.max 2>/dev/null || cat /sys/fs/cgroup/berth/"$id"-*/pids.max)" = 50 ]
}

@test "stats and update: bad input" {
	"${B[@]}" run -d --name s2 -m 64m busybox sh -c "$loop" >/dev/null
	"${B[@]}" create --name s3 busybox true >/dev/null
	run --separate-stderr "${B[@]}" stats --no-stream no-such-container
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"No such container: no-such-container"* ]]
	run --separate-stderr "${B[@]}" stats --no-stream s3
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"container s3 is not running"* ]]
	run --separate-stderr "${B[@]}" update -m lots s2
	[ "$status" -eq 125 ]
	run --separate-stderr "${B[@]}" update --memory-swap 10m s2
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"Minimum memoryswap limit should be larger than memory limit"* ]]
	[ "$("${B[@]}" container inspect -f '{{.HostConfig.MemorySwap}}' s2)" = 0 ]
	run --separate-stderr "${B[@]}" update -m 1m no-such-container
	[ "$status" -eq 1 ]
	run --separate-stderr "${B[@]}" update s2
	[ "$status" -eq 0 ]
	# a stopped one is updated for its next start
	run "${B[@]}" update --pids-limit 7 s3
	[ "$status" -eq 0 ]
	[ "$("${B[@]}" container inspect -f '{{.HostConfig.PidsLimit}}' s3)" = 7 ]
}

@test "commit makes a tagged image of the container's changes, with --change and -m" {
	"${B[@]}" run --name cm1 -e FROM_RUN=1 busybox sh -c 'echo committed > /data; rm /bin/ls'
	run --separate-stderr "${B[@]}" commit -m "a message" -a "Ann <ann@example.com>" \
		-c 'CMD ["cat", "/data"]' -c 'ENV GREETING=hello' -c 'LABEL team=ops' -c 'WORKDIR /tmp' cm1 committed:v1
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	imgid=$output
	run "${B[@]}" images --format '{{.Repository}}:{{.Tag}}'
	[[ "$output" == *"committed:v1"* ]]
	# the layer, the command and the env reach a container of the new image
	run --separate-stderr "${B[@]}" run --rm committed:v1
	[ "$status" -eq 0 ]
	[ "$output" = committed ]
	run --separate-stderr "${B[@]}" run --rm committed:v1 sh -c 'echo "$GREETING $FROM_RUN $(pwd)"; ls /bin/ls'
	[ "${lines[0]}" = "hello 1 /tmp" ]
	[ "$status" -ne 0 ]
	run "${B[@]}" image inspect -f '{{.Id}} {{.Config.Labels.team}} {{len .RootFS.Layers}}' committed:v1
	[ "$output" = "$imgid ops 2" ]
	run "${B[@]}" history --format '{{.Comment}}' committed:v1
	[ "${lines[0]}" = "a message" ]
	# the image holds nothing of the container: it can go, the image stays
	"${B[@]}" rm cm1
	run --separate-stderr "${B[@]}" run --rm committed:v1
	[ "$output" = committed ]
	"${B[@]}" rmi committed:v1 >/dev/null
}

@test "commit: bad input" {
	"${B[@]}" create --name cm2 busybox true >/dev/null
	run --separate-stderr "${B[@]}" commit no-such-container x:1
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"No such container: no-such-container"* ]]
	run --separate-stderr "${B[@]}" commit -c 'FROBNICATE now' cm2 x:1
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"unknown instruction: FROBNICATE"* ]]
	run --separate-stderr "${B[@]}" commit cm2 'Bad:Ref:x'
	[ "$status" -eq 1 ]
	run --separate-stderr "${B[@]}" commit cm2
	[ "$status" -eq 125 ]
	# nothing was tagged by the failures
	run "${B[@]}" images --format '{{.Repository}}'
	[ "$output" = busybox ]
}

# $1 lines of an old event named $2 appended to the events file
old_events() {
	/usr/bin/python3 -c 'import sys
line = "{\"status\":\"create\",\"id\":\"00\",\"Type\":\"container\",\"Action\":\"create\",\"Actor\":{\"ID\":\"00\",\"Attributes\":{\"image\":\"x\",\"name\":\"%s\"}},\"scope\":\"local\",\"time\":1000,\"timeNano\":1000000000000}\n" % sys.argv[2]
sys.stdout.write(line * int(sys.argv[1]))' "$1" "$2" >>"$STORE/run/events.jsonl"
}

@test "events: past 1 MiB the file moves to events.jsonl.1 (replacing the one before); readers and followers read on" {
	ev=$STORE/run/events.jsonl
	mkdir -p "$STORE/run"
	rm -f "$ev" "$ev.1"
	old_events 1 first
	old_events 6000 filler
	"${B[@]}" events --since "$(date +%s.%N)" --until $(( $(date +%s) + 4 )) --format '{{.Action}} {{.Actor.Attributes.name}}' > "$STORE/follow.out" &
	follower=$!
	sleep 1
	# written to the full file, which then moves aside
	"${B[@]}" create --name rot1 busybox true >/dev/null
	[ -f "$ev.1" ]
	[ ! -e "$ev" ]
	"${B[@]}" create --name rot2 busybox true >/dev/null
	wait "$follower"
	[ "$(cat "$STORE/follow.out")" = $'create rot1\ncreate rot2' ]
	run "${B[@]}" events --since 1 --until "$(date +%s.%N)" --format '{{.Actor.Attributes.name}}'
	[ "${lines[0]}" = first ]
	[ "${#lines[@]}" -eq 6003 ]
	[ "${lines[6002]}" = rot2 ]
	# the next rotation replaces the first: the history stays bounded
	old_events 6000 filler2
	"${B[@]}" rm rot1 rot2 >/dev/null
	run "${B[@]}" events --since 1 --until "$(date +%s.%N)" --format '{{.Actor.Attributes.name}}'
	[ "${lines[0]}" = rot2 ]
	[ "${lines[1]}" = filler2 ]
	[ "${#lines[@]}" -eq 6003 ]
	[ "$(cat "$ev" "$ev.1" | wc -c)" -lt $((3 << 20)) ]
}

@test "events: the engine's events as JSON lines, by --since/--until, and followed" {
	t0=$(date +%s.%N)
	"${B[@]}" run -d --name ev1 busybox sh -c "$loop" >/dev/null
	"${B[@]}" pause ev1 >/dev/null
	"${B[@]}" unpause ev1 >/dev/null
	"${B[@]}" rename ev1 ev2
	"${B[@]}" kill ev2 >/dev/null
	"${B[@]}" wait ev2 >/dev/null
	"${B[@]}" rm ev2 >/dev/null
	t1=$(date +%s.%N)
	run --separate-stderr "${B[@]}" events --since "$t0" --until "$t1" --format '{{.Action}} {{.Actor.Attributes.name}}'
	[ "$status" -eq 0 ]
	[ "$output" = $'create ev1\nstart ev1\npause ev1\nunpause ev1\nrename ev2\nkill ev2\ndie ev2\ndestroy ev2' ]
	run "${B[@]}" events --since "$t0" --until "$t1"
	[[ "${lines[0]}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z\ container\ create\ [0-9a-f]{64}\ \(image=busybox,\ name=ev1\)$ ]]
	[[ "${lines[5]}" == *" container kill "*"signal=9"* ]]
	run bash -c "$BERTH --root $STORE/root --runroot $STORE/run events --since $t0 --until $t1 --format json | /usr/bin/python3 -c 'import json, sys; print(\" \".join(json.loads(l)[\"Action\"] for l in sys.stdin))'"
	[ "$output" = "create start pause unpause rename kill die destroy" ]
	# nothing outside the window
	run "${B[@]}" events --since "$t1" --until "$t1"
	[ -z "$output" ]
	# relative times: this store is minutes old, so an hour ago holds nothing
	run "${B[@]}" events --since 2h --until 1h
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# followed: what happens while it runs, until --until
	"${B[@]}" events --since "$(date +%s.%N)" --until $(( $(date +%s) + 3 )) --format '{{.Action}} {{.Actor.Attributes.name}}' > "$STORE/follow.out" &
	follower=$!
	sleep 1
	"${B[@]}" create --name ev3 busybox true >/dev/null
	wait "$follower"
	[ "$(cat "$STORE/follow.out")" = "create ev3" ]
	run --separate-stderr "${B[@]}" events --since yesterday
	[ "$status" -eq 125 ]
	[[ "$stderr" == *'invalid value for "--since": "yesterday"'* ]]
}
