#!/usr/bin/env bats
# Containers on bridge networks (issue 14). Every berth command runs inside
# a network namespace this suite makes (nsenter --net, which keeps the
# mount namespace), so the bridge, veths, nft rules and packets stay
# there; an "outside" host is another test-made namespace with TEST-NET
# addresses (192.0.2.0/24), linked to the first by a veth pair. Both
# namespaces are removed in teardown, with every container.
bats_require_minimum_version 1.5.0
load lib/engine

setup_file() {
	command -v ip >/dev/null || skip "ip (iproute2) is not installed"
	engine_setup_file net
	export NS=bt-net-$$ OUT=bt-out-$$
	ip netns add "$NS"
	ip netns add "$OUT"
	ip -n "$NS" link set lo up
	ip -n "$OUT" link set lo up
	ip -n "$NS" link add bt-up type veth peer name bt-down netns "$OUT"
	ip -n "$NS" addr add 192.0.2.1/24 dev bt-up
	ip -n "$OUT" addr add 192.0.2.2/24 dev bt-down
	ip -n "$NS" link set bt-up up
	ip -n "$OUT" link set bt-down up
	# the outside host answers with who asked (the address it saw)
	mkdir -p "$STORE/www"
	echo outside > "$STORE/www/index.html"
	nsenter --net="/run/netns/$OUT" busybox httpd -p 192.0.2.2:8000 -h "$STORE/www" -v -f \
		> "$STORE/outside.log" 2>&1 3>&- &
	echo $! > "$STORE/outside.pid"
}

teardown_file() {
	[ -n "${STORE:-}" ] && [ -f "$STORE/outside.pid" ] && kill "$(cat "$STORE/outside.pid")" 2>/dev/null
	# the containers' removal ends the DNS server; one still running then
	# (a failed test's) is ours: its command line names this store
	dns=$(cat "${STORE:-/nonexistent}/root/networks/.dns/aardvark.pid" 2>/dev/null || true)
	engine_teardown_file
	[ -n "$dns" ] && grep -qa -- "/root/networks/.dns" "/proc/$dns/cmdline" 2>/dev/null && kill "$dns"
	ip netns del "$OUT" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}

setup() {
	engine_setup
	B=(nsenter --net="/run/netns/$NS" "${B[@]}")
}

in_ns() {
	nsenter --net="/run/netns/$NS" "$@"
}

@test "--network bridge: eth0 with an address of berth0's subnet, lo up, a default route" {
	run --separate-stderr "${B[@]}" run --rm --network bridge busybox sh -c \
		'busybox ip -4 -o addr show; busybox ip route'
	[ "$status" -eq 0 ]
	[[ "$output" == *"lo    inet 127.0.0.1/8"* ]]
	[[ "$output" =~ eth0\ +inet\ 172\.17\.0\.[0-9]+/16 ]]
	[[ "$output" == *"default via 172.17.0.1 dev eth0"* ]]
	in_ns ip -br link show berth0
	# --rm: the endpoint went with the container
	! in_ns ip -o link show | grep -q berthv
}

@test "a detached container's address is in inspect, serves the host's namespace, and is released on stop" {
	"${B[@]}" run -d --network bridge --name web busybox sh -c \
		'echo hello-from-web > /tmp/index.html; exec busybox httpd -f -p 80 -h /tmp'
	run "${B[@]}" inspect -f '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.MacAddress}}' web
	[ "$status" -eq 0 ]
	read -r ip gw mac <<< "$output"
	[[ "$ip" == 172.17.0.* ]]
	[ "$gw" = 172.17.0.1 ]
	[[ "$mac" == 02:42:ac:11:00:* ]]
	run "${B[@]}" network inspect bridge
	[[ "$output" == *"\"Name\": \"web\""* ]]
	for _ in $(seq 50); do
		in_ns curl -s -m 2 "http://$ip/index.html" > "$BATS_TEST_TMPDIR/got" && break
		sleep 0.1
	done
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = hello-from-web ]
	"${B[@]}" stop -t 1 web
	run "${B[@]}" inspect -f '{{.NetworkSettings.IPAddress}}' web
	[ "$output" = "" ]
	! in_ns ip -o link show | grep -q berthv
	run "${B[@]}" network inspect bridge
	[[ "$output" != *"\"Name\": \"web\""* ]]
	"${B[@]}" rm web
}

@test "outbound: a container reaches the outside namespace through NAT" {
	# busybox-static's wget crashes on a name lookup without NSS files; nc takes the address as it is
	run --separate-stderr "${B[@]}" run --rm --network bridge busybox sh -c \
		'printf "GET / HTTP/1.0\r\n\r\n" | busybox nc -w 5 192.0.2.2 8000'
	[ "$status" -eq 0 ]
	[[ "$output" == *outside* ]]
	# the outside saw the namespace's own address, not the container's
	grep -q '192.0.2.1' "$STORE/outside.log"
	! grep -q '172.17.' "$STORE/outside.log"
}

@test "a user network: its own subnet and bridge; --internal has no way out" {
	"${B[@]}" network create --subnet 10.77.0.0/24 bt-user
	run --separate-stderr "${B[@]}" run --rm --network bt-user busybox busybox ip -4 -o addr show eth0
	[ "$status" -eq 0 ]
	[[ "$output" == *"inet 10.77.0.2/24"* ]]
	"${B[@]}" network create --internal --subnet 10.78.0.0/24 bt-closed
	run "${B[@]}" run --rm --network bt-closed busybox sh -c \
		'printf "GET / HTTP/1.0\r\n\r\n" | busybox nc -w 2 192.0.2.2 8000'
	[[ "$output" != *outside* ]]
	"${B[@]}" network rm bt-user bt-closed
}

@test "an unknown network is refused at create" {
	run "${B[@]}" create --network bt-nosuch busybox true
	[ "$status" -ne 0 ]
	[[ "$output" == *"network bt-nosuch not found"* ]]
	run "${B[@]}" ps -a -q
	[ -z "$output" ]
}

@test "a killed container's endpoint is swept by the next network call" {
	"${B[@]}" run -d --network bridge --name doomed busybox busybox sleep 600
	monitor=$("${B[@]}" inspect -f '{{.State.MonitorPid}}' doomed)
	pid=$("${B[@]}" inspect -f '{{.State.Pid}}' doomed)
	kill -9 "$monitor" "$pid"
	for _ in $(seq 50); do
		in_ns ip -o link show | grep -q berthv || break
		sleep 0.1
	done
	run "${B[@]}" network inspect bridge
	[[ "$output" != *"\"Name\": \"doomed\""* ]]
	"${B[@]}" rm -f doomed
}

# a detached busybox httpd serving $1 at /index.html
web() {
	local name=$1
	shift
	"${B[@]}" run -d --network bridge --name "$name" "$@" busybox sh -c \
		"echo $name > /tmp/index.html; exec busybox httpd -f -p 80 -h /tmp"
}

# curl from the test's namespace, retried while the server starts
fetch() {
	for _ in $(seq 50); do
		in_ns curl -s -m 2 "$1" && return 0
		sleep 0.1
	done
	return 1
}

@test "-p 127.0.0.1:18080:80 and -p 18081:80: reached from the namespace's 127.0.0.1 and its own address" {
	web pub1 -p 127.0.0.1:18080:80
	web pub2 -p 18081:80
	run fetch http://127.0.0.1:18080/index.html
	[ "$output" = pub1 ]
	run fetch http://127.0.0.1:18081/index.html
	[ "$output" = pub2 ]
	run fetch http://192.0.2.1:18081/index.html
	[ "$output" = pub2 ]
	# bound to 127.0.0.1 only: not on the namespace's other address
	run in_ns curl -s -m 2 http://192.0.2.1:18080/index.html
	[ "$output" != pub1 ]
	run "${B[@]}" port pub1
	[ "$output" = "80/tcp -> 127.0.0.1:18080" ]
	run "${B[@]}" port pub2 80
	[ "$output" = "0.0.0.0:18081" ]
	# route_localnet is on for the bridge: what comes in on it for the
	# host's loopback is dropped before conntrack
	[ "$(in_ns cat /proc/sys/net/ipv4/conf/berth0/route_localnet)" = 1 ]
	in_ns nft list chain inet berth localnet | grep -q 'iifname "berth0" ip daddr 127.0.0.0/8 drop'
	"${B[@]}" rm -f pub1 pub2
	# their rules went with them
	! in_ns nft list table inet berth | grep -q 'dport 1808[01]'
}

@test "-P publishes each exposed port to a free port that berth port reports" {
	# an image that EXPOSEs 80, made by commit
	"${B[@]}" create --name exposer busybox true
	"${B[@]}" commit -c 'EXPOSE 80' exposer bt-exposed
	"${B[@]}" rm exposer
	"${B[@]}" run -d --network bridge --name puball -P bt-exposed sh -c \
		"echo puball > /tmp/index.html; exec busybox httpd -f -p 80 -h /tmp"
	hostport=$("${B[@]}" port puball 80/tcp)
	hostport=${hostport##*:}
	[ "$hostport" -gt 1024 ]
	run fetch "http://127.0.0.1:$hostport/index.html"
	[ "$output" = puball ]
	"${B[@]}" rm -f puball
	"${B[@]}" rmi bt-exposed
}

@test "a taken port is refused before the container starts" {
	web taken1 -p 18082:80
	run "${B[@]}" run -d --network bridge --name taken2 -p 18082:80 busybox busybox sleep 60
	[ "$status" -ne 0 ]
	[[ "$output" == *"18082"*"already allocated"*"taken1"* ]]
	run "${B[@]}" inspect -f '{{.State.Status}}' taken2
	[ "$output" = exited ] || [ "$status" -ne 0 ]
	# a listener of the namespace itself: nsenter execs nc, so $! is nc's
	# pid; fd 3 closed, or bats would wait for it
	nsenter --net="/run/netns/$NS" busybox nc -l -p 18083 >/dev/null 2>&1 3>&- &
	listener=$!
	sleep 0.2
	run "${B[@]}" run -d --network bridge --name taken3 -p 18083:80 busybox busybox sleep 60
	kill "$listener" 2>/dev/null || true
	wait "$listener" 2>/dev/null || true
	[ "$status" -ne 0 ]
	[[ "$output" == *"18083"*"in use"* ]]
	"${B[@]}" rm -f taken1 taken2 taken3
	! in_ns ip -o link show | grep -q berthv
}

@test "containers on two user networks cannot reach each other; on one they can" {
	"${B[@]}" network create --subnet 10.81.0.0/24 bt-left
	"${B[@]}" network create --subnet 10.82.0.0/24 bt-right
	"${B[@]}" run -d --network bt-left --name lweb busybox sh -c \
		"echo lweb > /tmp/index.html; exec busybox httpd -f -p 80 -h /tmp"
	ip=$("${B[@]}" inspect -f '{{.NetworkSettings.IPAddress}}' lweb)
	[ "$ip" = 10.81.0.2 ]
	run "${B[@]}" run --rm --network bt-left busybox sh -c \
		"for i in 1 2 3 4 5; do printf 'GET /index.html HTTP/1.0\r\n\r\n' | busybox nc -w 2 $ip 80 && break; sleep 0.2; done"
	[[ "$output" == *lweb* ]]
	run "${B[@]}" run --rm --network bt-right busybox sh -c \
		"printf 'GET /index.html HTTP/1.0\r\n\r\n' | busybox nc -w 2 $ip 80"
	[[ "$output" != *lweb* ]]
	run "${B[@]}" network rm bt-left
	[ "$status" -ne 0 ]
	[[ "$output" == *"active endpoints: lweb"* ]]
	"${B[@]}" rm -f lweb
	"${B[@]}" network rm bt-left bt-right
	! in_ns ip -o link show | grep -q 'berth-'
}

# an image with GNU wget and the libraries it loads: busybox-static's wget
# crashes on any name lookup (a static glibc cannot load NSS)
wget_image() {
	"${B[@]}" image inspect bt-wget >/dev/null 2>&1 && return 0
	local r=$STORE/wgetroot l d
	mkdir -p "$r/etc" "$r/usr/bin"
	cp /usr/bin/wget "$r/usr/bin/"
	for l in $(ldd /usr/bin/wget | grep -o '/[^ ]*'); do
		mkdir -p "$r$(dirname "$l")"
		cp -L "$l" "$r$l"
	done
	echo "hosts: files dns" > "$r/etc/nsswitch.conf"
	"${B[@]}" create --name mkwget busybox true
	for d in "$r"/*; do
		[ "$d" = "$r/etc" ] || "${B[@]}" cp "$d" mkwget:/
	done
	"${B[@]}" cp "$r/etc/nsswitch.conf" mkwget:/etc/nsswitch.conf
	"${B[@]}" commit mkwget bt-wget >/dev/null
	"${B[@]}" rm mkwget
}

# wget of http://$2/ from a container on network $1, retried while the
# server starts; prints what it got (busybox sh would run its own applet
# for a bare "wget")
wget_by_name() {
	"${B[@]}" run --rm --network "$1" bt-wget sh -c \
		"for i in 1 2 3 4 5 6 7 8 9 10; do /usr/bin/wget -T 2 -t 1 -qO- http://$2/ && exit 0; sleep 0.2; done; exit 1"
}

dns_pid() {
	cat "$STORE/root/networks/.dns/aardvark.pid" 2>/dev/null || true
}

# no aardvark-dns of this store runs (none has it on its command line)
no_dns_process() {
	! grep -qsa -- "$STORE/root/networks/.dns" /proc/[0-9]*/cmdline
}

@test "names on a user network: name, alias and short id, for its own containers only; renamed and removed stop resolving" {
	command -v ldd >/dev/null || skip "ldd is not installed"
	[ -x /usr/lib/podman/aardvark-dns ] || skip "aardvark-dns is not installed (scripts/install-deps)"
	wget_image
	"${B[@]}" network create --subnet 10.85.0.0/24 bt-dns
	"${B[@]}" network create --subnet 10.86.0.0/24 bt-dns2
	"${B[@]}" run -d --network bt-dns --name dweb --network-alias webalias busybox sh -c \
		"echo dweb > /tmp/index.html; exec busybox httpd -f -p 80 -h /tmp"
	id=$("${B[@]}" inspect -f '{{.Id}}' dweb)
	run "${B[@]}" inspect -f '{{json .NetworkSettings.Networks}}' dweb
	[[ "$output" == *'"Aliases":["'"${id:0:12}"'","webalias"]'* ]]
	run "${B[@]}" run --rm --network bt-dns busybox cat /etc/resolv.conf
	[[ "$output" == "nameserver 10.85.0.1"* ]]
	for name in dweb webalias "${id:0:12}"; do
		run wget_by_name bt-dns "$name"
		[ "$status" -eq 0 ]
		[ "$output" = dweb ]
	done
	# not from another network
	run "${B[@]}" run --rm --network bt-dns2 bt-wget wget -T 2 -t 1 -qO- http://dweb/
	[ "$status" -ne 0 ]
	[ "$output" != dweb ]
	# renamed: the new name resolves, the old one no more
	"${B[@]}" rename dweb dweb2
	run wget_by_name bt-dns dweb2
	[ "$output" = dweb ]
	run "${B[@]}" run --rm --network bt-dns bt-wget wget -T 2 -t 1 -qO- http://dweb/
	[ "$status" -ne 0 ]
	# removed: nothing resolves, and the DNS server went with the last endpoint
	"${B[@]}" rm -f dweb2
	run "${B[@]}" run --rm --network bt-dns bt-wget wget -T 2 -t 1 -qO- http://webalias/
	[ "$status" -ne 0 ]
	no_dns_process
	[ -z "$(dns_pid)" ]
	"${B[@]}" network rm bt-dns bt-dns2
}

@test "a killed DNS server is started again by the next operation; the default network has none" {
	[ -x /usr/lib/podman/aardvark-dns ] || skip "aardvark-dns is not installed (scripts/install-deps)"
	"${B[@]}" run -d --network bridge --name plain busybox busybox sleep 600
	no_dns_process
	"${B[@]}" network create --subnet 10.87.0.0/24 bt-dns3
	"${B[@]}" run -d --network bt-dns3 --name named busybox busybox sleep 600
	old=$(dns_pid)
	[ -n "$old" ]
	kill -9 "$old"
	for _ in $(seq 50); do [ -d "/proc/$old" ] || break; sleep 0.1; done
	"${B[@]}" network inspect bt-dns3 >/dev/null
	new=$(dns_pid)
	[ -n "$new" ] && [ "$new" != "$old" ]
	run "${B[@]}" run --rm --network bt-dns3 busybox busybox nslookup named
	[[ "$output" == *"Address: 10.87.0.2"* ]]
	"${B[@]}" rm -f named plain
	no_dns_process
	"${B[@]}" network rm bt-dns3
}

@test "--dns, --dns-search, --dns-option, --add-host write resolv.conf and hosts; bad ones are refused" {
	run "${B[@]}" run --rm --dns 192.0.2.53 --dns-search example.test --dns-option ndots:2 \
		--add-host db.test:192.0.2.7 busybox sh -c 'cat /etc/resolv.conf /etc/hosts'
	[ "$status" -eq 0 ]
	[[ "$output" == *"nameserver 192.0.2.53"* ]]
	[[ "$output" == *"search example.test"* ]]
	[[ "$output" == *"options ndots:2"* ]]
	[[ "$output" == *"192.0.2.7	db.test"* ]]
	[ "$(echo "$output" | grep -c nameserver)" = 1 ]
	run "${B[@]}" create --dns nonsense busybox true
	[ "$status" -ne 0 ]
	[[ "$output" == *'invalid --dns "nonsense"'* ]]
	run "${B[@]}" create --add-host nocolon busybox true
	[[ "$output" == *'invalid --add-host "nocolon"'* ]]
	run "${B[@]}" create --network-alias x busybox true
	[[ "$output" == *"network-scoped alias is supported only on user-defined networks"* ]]
	run "${B[@]}" create --network bridge --ip 172.17.0.9 busybox true
	[[ "$output" == *"--ip"*"user-defined networks"* ]]
	run "${B[@]}" ps -a -q
	[ -z "$output" ]
}

@test "--ip on a user network is honoured; a taken one is refused naming it" {
	"${B[@]}" network create --subnet 10.88.0.0/24 bt-fixed
	"${B[@]}" run -d --network bt-fixed --ip 10.88.0.50 --name fixed busybox busybox sleep 600
	run "${B[@]}" inspect -f '{{.NetworkSettings.IPAddress}}' fixed
	[ "$output" = 10.88.0.50 ]
	run "${B[@]}" run --rm --network bt-fixed --ip 10.88.0.50 busybox true
	[ "$status" -ne 0 ]
	[[ "$output" == *"address 10.88.0.50 of network bt-fixed is in use"* ]]
	run "${B[@]}" run --rm --network bt-fixed --ip 10.99.0.5 busybox true
	[[ "$output" == *"10.99.0.5 is no host address of network bt-fixed"* ]]
	"${B[@]}" rm -f fixed
	"${B[@]}" network rm bt-fixed
}

@test "containers started at once on one network get distinct addresses" {
	"${B[@]}" network create --subnet 10.89.0.0/24 bt-race
	for i in 1 2 3 4 5 6; do
		"${B[@]}" run -d --network bt-race --name "race$i" busybox busybox sleep 600 > /dev/null &
	done
	wait
	run "${B[@]}" inspect -f '{{.NetworkSettings.IPAddress}}' race1 race2 race3 race4 race5 race6
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '^10\.89\.0\.')" = 6 ]
	[ "$(echo "$output" | sort -u | wc -l)" = 6 ]
	"${B[@]}" rm -f race1 race2 race3 race4 race5 race6
	"${B[@]}" network rm bt-race
}

@test "network connect/disconnect of a running container: eth1 with an alias, kept over a restart, gone on disconnect" {
	"${B[@]}" network create --subnet 10.90.0.0/24 bt-conn1
	"${B[@]}" network create --subnet 10.92.0.0/24 bt-conn2
	"${B[@]}" run -d --network bt-conn1 --name conn busybox busybox sleep 600
	"${B[@]}" network connect --alias connalias --ip 10.92.0.9 bt-conn2 conn
	run "${B[@]}" exec conn busybox ip -4 -o addr show eth1
	[[ "$output" == *"inet 10.92.0.9/24"* ]]
	# one default route, through its own network
	run "${B[@]}" exec conn busybox ip route
	[ "$(echo "$output" | grep -c default)" = 1 ]
	[[ "$output" == *"default via 10.90.0.1 dev eth0"* ]]
	run "${B[@]}" run --rm --network bt-conn2 busybox busybox nslookup connalias
	[[ "$output" == *"Address: 10.92.0.9"* ]]
	run "${B[@]}" network connect bt-conn2 conn
	[ "$status" -ne 0 ]
	[[ "$output" == *"already connected to network bt-conn2"* ]]
	run "${B[@]}" network disconnect bt-conn1 conn
	[[ "$output" == *"not supported yet"* ]]
	"${B[@]}" restart -t 1 conn
	run "${B[@]}" exec conn busybox ip -4 -o addr show eth1
	[[ "$output" == *"inet 10.92.0.9/24"* ]]
	"${B[@]}" network disconnect bt-conn2 conn
	run "${B[@]}" exec conn busybox ip -o link
	[[ "$output" != *eth1* ]]
	run "${B[@]}" network inspect bt-conn2
	[[ "$output" != *'"Name": "conn"'* ]]
	run "${B[@]}" network disconnect bt-conn2 conn
	[[ "$output" == *"not connected to network bt-conn2"* ]]
	run "${B[@]}" network connect bt-conn2 bt-nosuch
	[ "$status" -ne 0 ]
	"${B[@]}" rm -f conn
	! in_ns ip -o link show | grep -q berthv
	"${B[@]}" network rm bt-conn1 bt-conn2
}
