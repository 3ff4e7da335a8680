# Registry fixtures for the pull tests, sourced by tests/integration/registry-*.sh.
#
# reg_setup                    temp dir $REG_TMP; everything started is stopped
#                              by PID and the dir removed at exit (trap)
# reg_start NAME MODE          Debian's docker-registry on 127.0.0.1:<free port>,
#                              MODE plain | tls (generated CA, htpasswd user
#                              berth:secret) | token (a test token issuer, same
#                              user); sets REG_ADDR, REG_DIR (its storage), and
#                              for tls REG_CERTS (a certs.d dir with its CA)
# reg_images                   builds the test images offline in $REG_TMP/layout
# reg_seed ADDR TAG NAME [ARGS] skopeo copy of layout:TAG to ADDR/NAME:latest
# reg_proxy MODE [ARG]         tests/integration/lib/registry-proxy.py in front
#                              of $REG_ADDR; sets PROXY_ADDR, PROXY_LOG
# reg_umount_all               unmounts every mount below $REG_TMP, innermost first
# reg_free_port                a free TCP port on 127.0.0.1
# reg_snapshot ROOT            listing and hashes of ROOT/content, to compare
# reg_bench_setup              for bench/: a registry with bench/multi and bench/big
# ok, die, fails PATTERN CMD.., unchanged WHAT   test helpers (see below)

REG_LIB=${REG_LIB:-$(cd "$(dirname "$0")" && pwd)/lib}
PY=/usr/bin/python3
REG_PIDS=

reg_cleanup() {
	for pid in $REG_PIDS; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	REG_PIDS=
	for m in $REG_MOUNTS; do
		umount "$m" 2>/dev/null || true
	done
	[ -n "${REG_TMP:-}" ] && rm -rf "$REG_TMP"
}

reg_setup() {
	for tool in docker-registry skopeo openssl htpasswd curl; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "SKIP: $tool is not installed (scripts/install-deps)"; exit 77
		fi
	done
	$PY -c 'import cryptography' 2>/dev/null || { echo "SKIP: python3-cryptography missing"; exit 77; }
	REG_TMP=$(mktemp -d /tmp/berth-it-registry-XXXXXX)
	REG_MOUNTS=
	trap reg_cleanup EXIT
	trap 'exit 1' INT TERM
}

reg_umount_all() {
	awk -v t="$REG_TMP/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}

reg_free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# waits until something answers on 127.0.0.1:$1 (the registry, the proxy)
reg_wait() {
	i=0
	while ! $PY -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "FAIL: nothing listens on 127.0.0.1:$1"; return 1; }
		sleep 0.1
	done
}

reg_certs() {
	d=$REG_TMP/pki
	[ -f "$d/server.crt" ] && return 0
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
		-subj /CN=berth-test-ca 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
		-subj /CN=127.0.0.1 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-out "$d/server.crt" -days 2 -extfile "$d/ext" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/token.key" -out "$d/token.crt" -days 2 \
		-subj /CN=berth-test-token 2>/dev/null
	htpasswd -Bbn berth secret > "$d/htpasswd"
}

reg_start() {
	name=$1 mode=$2
	dir=$REG_TMP/reg-$name
	mkdir -p "$dir/storage"
	port=$(reg_free_port)
	cat > "$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: berth-test-$name
EOF
	REG_CERTS=
	case $mode in
	plain) ;;
	tls)
		reg_certs
		cat >> "$dir/config.yml" <<EOF
  tls:
    certificate: $REG_TMP/pki/server.crt
    key: $REG_TMP/pki/server.key
auth:
  htpasswd:
    realm: berth-test
    path: $REG_TMP/pki/htpasswd
EOF
		REG_CERTS=$dir/certs.d
		mkdir -p "$REG_CERTS/127.0.0.1:$port"
		cp "$REG_TMP/pki/ca.crt" "$REG_CERTS/127.0.0.1:$port/ca.crt"
		;;
	token)
		reg_certs
		$PY "$REG_LIB/registry-token.py" "$dir/token.port" "$REG_TMP/pki/token.key" \
			"$REG_TMP/pki/token.crt" berth:secret berth-test-service berth-test-issuer \
			2> "$dir/token.err" &
		REG_PIDS="$REG_PIDS $!"
		i=0
		while [ ! -f "$dir/token.port" ]; do
			i=$((i + 1)); [ $i -lt 100 ] || { echo "FAIL: token issuer did not start: $(cat "$dir/token.err")"; return 1; }
			sleep 0.1
		done
		REG_TOKEN_LOG=$dir/token.port.log
		cat >> "$dir/config.yml" <<EOF
auth:
  token:
    realm: http://127.0.0.1:$(cat "$dir/token.port")/token
    service: berth-test-service
    issuer: berth-test-issuer
    rootcertbundle: $REG_TMP/pki/token.crt
EOF
		;;
	esac
	docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
	REG_PIDS="$REG_PIDS $!"
	reg_wait "$port" || { cat "$dir/log"; return 1; }
	REG_ADDR=127.0.0.1:$port
	REG_DIR=$dir/storage
}

reg_images() {
	[ -f "$REG_TMP/layout/index.json" ] && return 0
	$PY "$REG_LIB/registry-mkimage.py" "$REG_TMP/layout"
}

reg_seed() {
	addr=$1 tag=$2 name=$3
	shift 3
	skopeo copy -q --dest-tls-verify=false "$@" "oci:$REG_TMP/layout:$tag" "docker://$addr/$name:latest" \
		> "$REG_TMP/skopeo.log" 2>&1 || { cat "$REG_TMP/skopeo.log"; return 1; }
}

reg_proxy() {
	n=$(ls "$REG_TMP" | grep -c '^proxy' || true)
	pf=$REG_TMP/proxy$n.port
	$PY "$REG_LIB/registry-proxy.py" "$pf" "http://$REG_ADDR" "$@" 2> "$pf.err" &
	REG_PIDS="$REG_PIDS $!"
	i=0
	while [ ! -f "$pf" ]; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "FAIL: proxy did not start: $(cat "$pf.err")"; return 1; }
		sleep 0.1
	done
	PROXY_ADDR=127.0.0.1:$(cat "$pf")
	PROXY_LOG=$pf.log
}

# what a failed pull must leave as it was: every blob, and the unpacked
# layers (their paths and the storage's records). Empty folders hold
# nothing: a pull may make storage/layers before it fails (removing them
# again could pull them from under a concurrent pull).
reg_snapshot() {
	if [ -d "$1/content" ]; then
		(cd "$1/content" && find . -print | sort && find . -type f -exec sha256sum {} + | sort)
	fi
	if [ -d "$1/storage" ]; then
		(cd "$1/storage" && find . -mindepth 1 \( -type d -empty -prune \) -o -print | sort &&
			find . -maxdepth 1 -type f -exec sha256sum {} + | sort)
	fi
}

# For bench/: a plain registry (sets R, REG_ADDR) with the multi-layer test
# image as bench/multi and one large layer of ~150 MB of /usr/share files as
# bench/big.
reg_bench_setup() {
	reg_setup
	reg_images
	$PY "$REG_LIB/registry-mkimage.py" "$REG_TMP/big" big /usr/share/doc /usr/share/perl
	reg_start bench plain
	R=$REG_ADDR
	reg_seed "$R" multi bench/multi
	skopeo copy -q --dest-tls-verify=false "oci:$REG_TMP/big:big" "docker://$R/bench/big:latest"
}

# the registry's copy of a blob (filesystem storage driver layout)
reg_blob_path() {
	hex=${2#sha256:}
	echo "$1/docker/registry/v2/blobs/sha256/$(echo "$hex" | cut -c1-2)/$hex/data"
}

# ---- test helpers: counted passes, failures, expected errors, store snapshots
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
die() { echo "FAIL: $*"; exit 1; }
# runs "$@", which must fail with an error containing the pattern $1
fails() {
	pat=$1; shift
	if "$@" > "$REG_TMP/out" 2> "$REG_TMP/err"; then die "succeeded: $*"; fi
	grep -q -- "$pat" "$REG_TMP/err" || die "error of '$*' lacks \"$pat\": $(cat "$REG_TMP/err")"
	! grep -q "Sanitizer" "$REG_TMP/err" || die "sanitizer report from '$*': $(cat "$REG_TMP/err")"
}
# the store under $root must be as reg_snapshot left it in $REG_TMP/before
unchanged() {
	reg_snapshot "$root" > "$REG_TMP/after"
	cmp -s "$REG_TMP/before" "$REG_TMP/after" || { diff "$REG_TMP/before" "$REG_TMP/after"; die "$1: the store changed"; }
}
