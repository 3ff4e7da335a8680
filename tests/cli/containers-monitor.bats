#!/usr/bin/env bats
# What a container's monitor does beyond holding it: attach and terminals
# (real pseudo-terminals driven by tests/cli/pty-session.py), log rotation,
# restart policies, healthchecks, system boot. Same image and clean-up as
# containers.bats: busybox-static made offline; every container removed
# and every monitor ended by its PID in teardown. Root only.
bats_require_minimum_version 1.5.0
load lib/engine

setup_file() {
	engine_setup_file mon
}

teardown_file() {
	engine_teardown_file
}

setup() {
	engine_setup
	PTY=(/usr/bin/python3 "$top_srcdir/tests/cli/pty-session.py")
}

# waits up to 10 s for container $1's inspect field $2 to print $3
wait_for() {
	for i in $(seq 100); do
		[ "$("${B[@]}" container inspect -f "$2" "$1" 2>/dev/null)" = "$3" ] && return 0
		sleep 0.1
	done
	echo "$1: $2 is $("${B[@]}" container inspect -f "$2" "$1" 2>&1), not $3" >&2
	return 1
}

@test "run -it: a real terminal, its size followed, output and exit code 3" {
	run --separate-stderr "${PTY[@]}" --rows 33 --cols 101 'expect:# ' \
		'send:tty; stty size\r' 'expect:33 101' 'resize:40:120' 'sleep:0.5' \
		'send:stty size; echo h""i; exit 3\r' -- "${B[@]}" run -it --rm busybox sh
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"/dev/pts/0"* ]]
	[[ "$output" == *"40 120"* ]]
	[[ "$output" == *$'\nhi\r'* ]]
	[[ "$stderr" == *"tty-modes-restored: yes"* ]]
	[ -z "$("${B[@]}" ps -a -q)" ]
}

@test "run -t of a command that ends at once still shows its output and code" {
	for i in 1 2 3; do
		run --separate-stderr "${PTY[@]}" -- "${B[@]}" run -t --rm busybox sh -c 'echo quick; exit 4'
		[ "$status" -eq 4 ]
		[[ "$output" == *quick* ]]
	done
	# without a terminal of ours too (stdin and stdout not ttys)
	run "${B[@]}" run -t --rm busybox echo piped < /dev/null
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | tr -d '\r')" = "piped" ]
}

@test "ctrl-p ctrl-q detaches, the container runs on; attach takes it back" {
	run --separate-stderr "${PTY[@]}" 'expect:# ' 'send:echo o""ne\r' 'expect:one' 'send:\x10\x11' \
		-- "${B[@]}" run -it --name dt busybox sh
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"tty-modes-restored: yes"* ]]
	wait_for dt '{{.State.Status}}' running
	# other detach keys; what came before them reaches the shell
	run "${PTY[@]}" 'send:\r' 'expect:# ' 'send:echo t""wo\r' 'expect:two' 'send:x' \
		-- "${B[@]}" attach --detach-keys x dt
	[ "$status" -eq 0 ]
	wait_for dt '{{.State.Status}}' running
	run "${PTY[@]}" 'send:\r' 'expect:# ' 'send:exit 5\r' -- "${B[@]}" attach dt
	[ "$status" -eq 5 ]
	wait_for dt '{{.State.Status}}' exited
	# the log has what the terminal showed, attached or not
	run "${B[@]}" logs dt
	[[ "$output" == *one* && "$output" == *two* ]]
	"${B[@]}" rm dt
	[ ! -e "$STORE/run/containers/$("${B[@]}" ps -aq --no-trunc | head -1)" ] || true
}

@test "run -dt logs the terminal; the monitor's fds do not reach the container" {
	id=$("${B[@]}" run -d -t --name dtt busybox sh -c 'tty; ls -1 /proc/self/fd; sleep 30')
	for i in $(seq 50); do "${B[@]}" logs dtt | grep -q '^3' && break; sleep 0.1; done
	run "${B[@]}" logs dtt
	# 0-2 the terminal, 3 the directory ls reads: nothing of the monitor's
	[ "$(echo "$output" | tr -d '\r' | tr '\n' ' ')" = "/dev/pts/0 0 1 2 3 " ]
	[ -S "$STORE/run/containers/$id/attach.sock" ]
	"${B[@]}" rm -f dtt
	[ ! -e "$STORE/run/containers/$id" ]
}

@test "-i without a terminal: stdin forwarded and closed at its end, stdout and stderr apart" {
	run --separate-stderr "${B[@]}" run -i --rm busybox sh -c 'cat; echo err >&2' <<< "piped"
	[ "$status" -eq 0 ]
	[ "$output" = "piped" ]
	[ "$stderr" = "err" ]
	# without -i the container's stdin is /dev/null, as with Docker
	run --separate-stderr "${B[@]}" run --rm busybox cat <<< "not for it"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# detached with -i: attach feeds its stdin pipe, EOF ends cat
	"${B[@]}" run -d -i --name di busybox sh -c 'cat; echo done >&2; exit 7' >/dev/null
	run --separate-stderr "${B[@]}" attach di <<< "through attach"
	[ "$status" -eq 7 ]
	[ "$output" = "through attach" ]
	[ "$stderr" = "done" ]
	"${B[@]}" rm di
}

@test "attach to a stopped container is refused" {
	"${B[@]}" create --name st busybox true >/dev/null
	run "${B[@]}" attach st
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot attach to a stopped container"* ]]
	"${B[@]}" rm st
}

@test "--log-opt max-size/max-file rotate the json-file log as Docker does; logs reads across the files" {
	id=$("${B[@]}" run -d --name rot --log-opt max-size=1k --log-opt max-file=3 busybox \
		sh -c 'for i in $(seq 1 200); do echo line-$i; done')
	run "${B[@]}" wait rot
	[ "$output" = "0" ]
	log=$STORE/root/containers/$id/$id-json.log
	[ -s "$log" ] && [ -s "$log.1" ] && [ -s "$log.2" ] && [ ! -e "$log.3" ]
	for f in "$log" "$log.1" "$log.2"; do [ "$(stat -c %s "$f")" -le 1000 ]; done
	# the oldest lines are gone, what is kept comes in order up to the last
	run "${B[@]}" logs rot
	[ "${lines[-1]}" = "line-200" ]
	[ "${lines[0]}" != "line-1" ]
	first=${lines[0]#line-}
	[ "${#lines[@]}" -eq $((201 - first)) ]
	run "${B[@]}" logs --tail 2 rot
	[ "$output" = $'line-199\nline-200' ]
	run "${B[@]}" logs -n 0 rot
	[ -z "$output" ]
	run "${B[@]}" logs -t --tail 1 rot
	[[ "$output" =~ ^20[0-9-]+T[0-9:]+\.[0-9]{9}Z\ line-200$ ]]
	# --since: a time after the last line shows nothing, one long before all
	run "${B[@]}" logs --since "$(date -u -d '+1 min' +%Y-%m-%dT%H:%M:%SZ)" rot
	[ -z "$output" ]
	run "${B[@]}" logs --since 10m rot
	[ "${lines[-1]}" = "line-200" ]
	run "${B[@]}" run --rm --log-opt max-size=lots busybox true
	[ "$status" -eq 125 ]
	[[ "$output" == *"log opt"* ]]
	"${B[@]}" rm rot
}

@test "--restart on-failure:3 restarts a crashing container with Docker's backoff, then gives up" {
	"${B[@]}" run -d --name crash --restart on-failure:3 busybox sh -c 'sleep 0.3; exit 2' >/dev/null
	# wait returns at the end of a run, as Docker's does, restarted or not
	run timeout 10 "${B[@]}" wait crash
	[ "$status" -eq 0 ]
	[ "$output" = "2" ]
	wait_for crash '{{.RestartCount}} {{.State.Status}}' "3 exited"
	run "${B[@]}" container inspect -f '{{.State.ExitCode}} {{.State.Restarting}} {{.HostConfig.RestartPolicy.Name}}' crash
	[ "$output" = "2 false on-failure" ]
	# a clean exit is no failure
	"${B[@]}" run -d --name clean --restart on-failure busybox true >/dev/null
	wait_for clean '{{.State.Status}}' exited
	sleep 0.5
	run "${B[@]}" container inspect -f '{{.RestartCount}}' clean
	[ "$output" = "0" ]
	"${B[@]}" rm crash clean
}

@test "--restart always: the delays between runs double from 100 ms; stop ends it for good" {
	# each run logs a line: the log's times are the runs' starts
	"${B[@]}" run -d --name always --restart always busybox sh -c 'echo run; exit 1' >/dev/null
	for i in $(seq 100); do [ "$("${B[@]}" logs always | wc -l)" -ge 6 ] && break; sleep 0.1; done
	# gaps between runs: 0.1 0.2 0.4 0.8 1.6 s plus a start's own time
	gaps=$("${B[@]}" logs -t always | head -6 | /usr/bin/python3 -c '
import sys, datetime
ts = [datetime.datetime.fromisoformat(l.split()[0][:26]).timestamp() for l in sys.stdin]
print(" ".join("%.2f" % (b - a) for a, b in zip(ts, ts[1:])))')
	echo "gaps: $gaps"
	/usr/bin/python3 -c '
import sys
g = [float(x) for x in sys.argv[1:]]
want = [0.1, 0.2, 0.4, 0.8, 1.6]
# at least the delays, and doubling: the last gap 1.5 s longer than the first
# (a start costs more on a loaded machine, the same in every gap)
assert len(g) == 5 and all(x >= w for x, w in zip(g, want)) and g[4] - g[0] >= 1.2, g' $gaps
	run "${B[@]}" container inspect -f '{{.State.Running}}' always
	[ "$output" = "true" ]
	# wait returns at the end of a run, though the container comes back
	run timeout 10 "${B[@]}" wait always
	[ "$status" -eq 0 ]
	[ "$output" = "1" ]
	run "${B[@]}" stop always
	[ "$status" -eq 0 ]
	run "${B[@]}" container inspect -f '{{.State.Status}} {{.State.Restarting}} {{.State.MonitorPid}}' always
	[ "$output" = "exited false 0" ]
	n=$("${B[@]}" container inspect -f '{{.RestartCount}}' always)
	sleep 2
	[ "$("${B[@]}" container inspect -f '{{.RestartCount}} {{.State.Status}}' always)" = "$n exited" ]
	run "${B[@]}" run --rm --restart always busybox true
	[ "$status" -eq 125 ]
	[[ "$output" == *"Conflicting options"* ]]
	run "${B[@]}" run --rm --restart sometimes busybox true
	[ "$status" -eq 125 ]
	"${B[@]}" rm always
}

@test "--restart always: a long-running container restarts after a kill; rm -f ends it" {
	"${B[@]}" run -d --name longrun --restart always busybox sh -c 'sleep 1000' >/dev/null
	pid=$("${B[@]}" container inspect -f '{{.State.Pid}}' longrun)
	kill -9 "$pid"
	wait_for longrun '{{.RestartCount}} {{.State.Status}}' "1 running"
	[ "$("${B[@]}" container inspect -f '{{.State.Pid}}' longrun)" != "$pid" ]
	mon=$("${B[@]}" container inspect -f '{{.State.MonitorPid}}' longrun)
	run "${B[@]}" rm -f longrun
	[ "$status" -eq 0 ]
	for i in $(seq 50); do kill -0 "$mon" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$mon" 2>/dev/null
}

@test "--health-cmd: starting, healthy, then unhealthy after --health-retries failures; timeouts fail" {
	"${B[@]}" run -d --name hc --health-cmd 'test -e /ok && echo fine' --health-interval 200ms \
		--health-retries 2 --health-timeout 2s busybox sh -c 'touch /ok; sleep 3; rm /ok; sleep 1000' >/dev/null
	wait_for hc '{{.State.Health.Status}}' healthy
	run "${B[@]}" container inspect -f '{{json .State.Health.Log}}' hc
	[[ "$output" == *'"ExitCode":0,"Output":"fine\n"'* ]]
	wait_for hc '{{.State.Health.Status}}' unhealthy
	"${B[@]}" container inspect hc | /usr/bin/python3 -c '
import json, sys
h = json.load(sys.stdin)[0]["State"]["Health"]
assert h["FailingStreak"] >= 2 and 1 <= len(h["Log"]) <= 5, h
assert h["Log"][-1]["ExitCode"] == 1 and h["Log"][-1]["Start"] <= h["Log"][-1]["End"], h'
	# each change of the status is an event, as Docker's health_status
	run "${B[@]}" events --since 1h --until 0s --format '{{.Action}} {{.Actor.Attributes.name}}'
	[[ "$output" == *$'health_status: healthy hc\n'*'health_status: unhealthy hc'* ]]
	"${B[@]}" rm -f hc
	# a check that outlives its timeout is killed and counts as a failure
	"${B[@]}" run -d --name hto --health-cmd 'sleep 5' --health-interval 100ms --health-timeout 300ms \
		--health-retries 1 busybox sh -c 'sleep 1000' >/dev/null
	wait_for hto '{{.State.Health.Status}}' unhealthy
	run "${B[@]}" container inspect -f '{{json .State.Health.Log}}' hto
	[[ "$output" == *'"ExitCode":-1,"Output":"Health check exceeded timeout'* ]]
	"${B[@]}" rm -f hto
	# before its first check a container's health is starting
	"${B[@]}" run -d --name hs --health-cmd true --health-interval 1h busybox sh -c 'sleep 1000' >/dev/null
	run "${B[@]}" container inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}} {{len .State.Health.Log}}' hs
	[ "$output" = "starting 0 0" ]
	"${B[@]}" rm -f hs
	"${B[@]}" run -d --name hn --no-healthcheck --health-cmd true busybox sh -c 'sleep 1000' >/dev/null
	run "${B[@]}" container inspect -f '{{json .State}}' hn
	[[ "$output" != *Health* ]]
	"${B[@]}" rm -f hn
}

@test "system boot restarts what the policies ask for after the monitors went away" {
	"${B[@]}" run -d --name b-always --restart always busybox sh -c 'sleep 1000' >/dev/null
	"${B[@]}" run -d --name b-unless --restart unless-stopped busybox sh -c 'sleep 1000' >/dev/null
	"${B[@]}" run -d --name b-stopped --restart unless-stopped busybox sh -c 'sleep 1000' >/dev/null
	"${B[@]}" run -d --name b-none busybox sh -c 'sleep 1000' >/dev/null
	"${B[@]}" stop -t 1 b-stopped >/dev/null
	# a reboot: every monitor and container process gone at once
	for c in b-always b-unless b-none; do
		mon=$("${B[@]}" container inspect -f '{{.State.MonitorPid}}' $c)
		init=$("${B[@]}" container inspect -f '{{.State.Pid}}' $c)
		kill -9 "$mon" "$init"
	done
	for c in b-always b-unless b-none; do wait_for $c '{{.State.Status}} {{.State.ExitCode}}' "exited -1"; done
	run "${B[@]}" system boot
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	for c in b-always b-unless; do wait_for $c '{{.State.Status}}' running; done
	for c in b-stopped b-none; do wait_for $c '{{.State.Status}}' exited; done
	# nothing more to do a second time
	run "${B[@]}" system boot
	[ -z "$output" ]
	"${B[@]}" rm -f b-always b-unless b-stopped b-none >/dev/null
}

@test "the backoff goes back to 100 ms after a run of 10 s" {
	# runs 0-2 crash at once (delays 0.1, 0.2, 0.4 s), run 3 lasts 10.5 s:
	# the delay after it is 0.1 s again, not 0.8 (the snapshot keeps /n)
	"${B[@]}" run -d --name reset --restart always busybox sh -c \
		'n=$(cat /n 2>/dev/null || echo 0); echo $((n + 1)) > /n; echo run-$n; [ $n -ne 3 ] || sleep 10.5; [ $n -lt 5 ] || sleep 1000; exit 1' >/dev/null
	for i in $(seq 250); do "${B[@]}" logs reset | grep -q run-5 && break; sleep 0.1; done
	gaps=$("${B[@]}" logs -t reset | /usr/bin/python3 -c '
import sys, datetime
ts = [datetime.datetime.fromisoformat(l.split()[0][:26]).timestamp() for l in sys.stdin]
print(" ".join("%.2f" % (b - a) for a, b in zip(ts, ts[1:])))')
	echo "gaps: $gaps"
	/usr/bin/python3 -c '
import sys
g = [float(x) for x in sys.argv[1:]]
assert len(g) == 5, g
assert 0.1 <= g[3] - 10.5 < 0.7, g    # reset: 0.1 s, where 0.8 s would come next
assert 0.2 <= g[4] < 0.8, g           # and doubling again from there' $gaps
	"${B[@]}" rm -f reset
}

@test "a busy monitor stays under 512 KiB of private dirty memory, every fd of its own close-on-exec" {
	"${B[@]}" run -d -t -i --name busy --health-cmd 'sleep 0.5' --health-interval 100ms \
		--log-opt max-size=10k --log-opt max-file=2 busybox sh -c 'while :; do echo tick; sleep 0.1; done' >/dev/null
	"${B[@]}" attach --no-stdin busy > /dev/null 2>&1 3>&- &
	client=$!
	sleep 1.5
	mon=$("${B[@]}" container inspect -f '{{.State.MonitorPid}}' busy)
	# the memory that is this monitor's alone: its dirty pages (heap, stack,
	# data, relocations); clean pages of libberth's text count as private
	# too while no other berth process maps the same file, but they are
	# shared by every monitor and evictable (bench/run.sh reports Pss)
	kb=$(awk '/^Private_Dirty:/ { n += $2 } END { print n }' /proc/$mon/smaps_rollup)
	echo "monitor private dirty memory: $kb kB"
	# (a sanitizer build's shadow memory is tens of MiB: not a measure)
	[ -n "${ASAN_RUNTIME:-}" ] || [ "$kb" -lt 512 ]
	# a socket client, a running check and the terminal among them
	ls -l /proc/$mon/fd | grep -q socket
	for f in /proc/$mon/fdinfo/*; do
		n=${f##*/}
		[ "$n" -le 2 ] && continue
		# a check's pipe may close between the listing and the read
		flags=$(awk '/^flags:/ { print $2 }' "$f" 2>/dev/null) || continue
		[ -n "$flags" ] || continue
		echo "fd $n $(readlink /proc/$mon/fd/$n) flags $flags"
		(( (8#$flags & 8#2000000) != 0 ))
	done
	# (SIGTERM would go on to the container, as Docker's attach proxies it)
	kill -9 "$client" 2>/dev/null || true
	wait "$client" || true
	"${B[@]}" rm -f busy
}

@test "the image's HEALTHCHECK runs; --health-cmd overrides it, --no-healthcheck drops it" {
	/usr/bin/python3 - "$top_srcdir/tests/integration/lib/registry-mkimage.py" "$STORE/hc-layout" <<'PY'
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("mkimage", sys.argv[1])
mk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mk)
layout = sys.argv[2]
os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
with open(os.path.join(layout, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
hc = {"Test": ["CMD", "true"], "Interval": 100000000, "Timeout": 1000000000, "Retries": 1}
desc = dict(mk.image(layout, [mk.busybox_layer(layout)], config_extra={"Healthcheck": hc}))
desc["annotations"] = {"org.opencontainers.image.ref.name": "hc"}
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [desc]}, f)
PY
	skopeo copy -q "oci:$STORE/hc-layout:hc" "oci:$STORE/root/content:docker.io/library/busybox-hc:latest"
	"${B[@]}" run -d --name ih busybox-hc sh -c 'sleep 1000' >/dev/null
	run "${B[@]}" container inspect -f '{{json .Config.Healthcheck.Test}}' ih
	[ "$output" = '["CMD","true"]' ]
	wait_for ih '{{.State.Health.Status}}' healthy
	# the command replaced, the image's interval and retries kept
	"${B[@]}" run -d --name ih2 --health-cmd 'exit 1' busybox-hc sh -c 'sleep 1000' >/dev/null
	run "${B[@]}" container inspect -f '{{json .Config.Healthcheck}}' ih2
	[[ "$output" == *'"Interval":100000000'* && "$output" == *'"Retries":1'* ]]
	wait_for ih2 '{{.State.Health.Status}}' unhealthy
	"${B[@]}" run -d --name ih3 --no-healthcheck busybox-hc sh -c 'sleep 1000' >/dev/null
	run "${B[@]}" container inspect -f '{{json .Config.Healthcheck.Test}}' ih3
	[ "$output" = '["NONE"]' ]
	sleep 0.5
	run "${B[@]}" container inspect -f '{{json .State}}' ih3
	[[ "$output" != *Health* ]]
	"${B[@]}" rm -f ih ih2 ih3 >/dev/null
}
