#!/bin/sh
# Registry authentication against real registries on 127.0.0.1: HTTPS with a
# generated CA (certs.d) and htpasswd (Basic), and token auth through a test
# token issuer (Bearer); credentials from berth login's auth file and from a
# docker config.json; wrong passwords refused with the store unchanged.
set -eu
. "$(dirname "$0")/lib/registry.sh"
berth="$top_builddir/examples/berth/berth"
reg_setup
root=$REG_TMP/root
auth=$REG_TMP/auth.json
b() { HOME=$REG_TMP/home "$berth" --root "$root" "$@"; }
mkdir -p "$REG_TMP/home"
reg_images

# ---- HTTPS, our own CA, htpasswd ---------------------------------------------
reg_start tls tls
T=$REG_ADDR
certs=$REG_CERTS
reg_seed "$T" busybox berth-test/busybox --dest-creds berth:secret
reg_seed "$T" victim berth-test/victim --dest-creds berth:secret
ok "TLS registry with htpasswd at $T seeded"

reg_snapshot "$root" > "$REG_TMP/before"
fails "needs credentials (berth login $T)" b pull --certs-dir "$certs" --auth-file "$auth" "$T/berth-test/busybox"
fails "certificate" b pull --certs-dir "$REG_TMP/no-certs" --auth-file "$auth" "$T/berth-test/busybox"
fails "registry answered 401 Unauthorized" b login -u berth -p wrong --certs-dir "$certs" --auth-file "$auth" "$T"
[ ! -e "$auth" ] || die "a failed login wrote the auth file"
unchanged "no credentials"
ok "without credentials, without the CA, with a wrong password: refused, nothing written"

b login -u berth -p secret --certs-dir "$certs" --auth-file "$auth" "$T" | grep -q "Login Succeeded" || die "login"
[ "$(stat -c %a "$auth")" = 600 ] || die "auth file mode $(stat -c %a "$auth")"
grep -q "$(printf berth:secret | base64)" "$auth" || die "auth file: $(cat "$auth")"
b pull --certs-dir "$certs" --auth-file "$auth" "$T/berth-test/busybox" > /dev/null || die "pull with Basic"
ok "login (auth file 0600), pull over HTTPS with the certs.d CA and Basic auth"

b pull --insecure-registry "$T" --certs-dir "$REG_TMP/no-certs" --auth-file "$auth" "$T/berth-test/victim" > /dev/null \
	|| die "pull from an insecure-listed registry without its CA"
b rmi "$T/berth-test/victim" > /dev/null
ok "a registry listed insecure is used without verifying its certificate"

# wrong password in the auth file: 401 on pull, store unchanged
printf '{"auths":{"%s":{"auth":"%s"}}}' "$T" "$(printf berth:wrong | base64)" > "$REG_TMP/wrong.json"
reg_snapshot "$root" > "$REG_TMP/before"
fails "registry answered 401" b pull --certs-dir "$certs" --auth-file "$REG_TMP/wrong.json" "$T/berth-test/victim"
unchanged "wrong password"
ok "a wrong password from the auth file: 401, store unchanged"

b logout --auth-file "$auth" "$T" > /dev/null || die "logout"
fails "not logged in" b logout --auth-file "$auth" "$T"
mkdir -p "$REG_TMP/home/.docker"
printf '{"auths":{"https://%s":{"auth":"%s"}}}' "$T" "$(printf berth:secret | base64)" > "$REG_TMP/home/.docker/config.json"
b pull --certs-dir "$certs" --auth-file "$auth" "$T/berth-test/victim" > /dev/null || die "pull with docker config.json"
ok "logout; credentials from ~/.docker/config.json auths"
rm -f "$REG_TMP/home/.docker/config.json"

# ---- token auth --------------------------------------------------------------
reg_start token token
K=$REG_ADDR
reg_seed "$K" multi berth-test/multi --dest-creds berth:secret
ok "token-auth registry at $K seeded"

reg_snapshot "$root" > "$REG_TMP/before"
fails "registry answered 401" b pull --auth-file "$auth" "$K/berth-test/multi"
unchanged "anonymous token"
fails "refused the credentials of berth" b login -u berth -p wrong --auth-file "$auth" "$K"
ok "token auth: an anonymous token is not enough; a wrong password is refused by the issuer"

b login -u berth -p secret --auth-file "$auth" "$K" > /dev/null || die "token login"
: > "$REG_TOKEN_LOG"
b pull --auth-file "$auth" "$K/berth-test/multi" > /dev/null || die "pull with a Bearer token"
n=$(grep -c 'scope=repository%3Aberth-test%2Fmulti%3Apull auth=yes' "$REG_TOKEN_LOG" || true)
[ "$n" = 1 ] || die "expected one token fetch for 5 blobs and a manifest, got: $(cat "$REG_TOKEN_LOG")"
ok "login, then a pull with one Bearer token fetched and cached for all its requests"

# tokens of 2 s: two GETs within the lifetime share one, a GET after it fetches another
echo 2 > "${REG_TOKEN_LOG%.log}.expires"
: > "$REG_TOKEN_LOG"
"$top_builddir/tests/integration/registry-helper" token "$root" "$K/berth-test/multi" "$auth" \
	|| die "manifest GETs with 2 s tokens"
rm -f "${REG_TOKEN_LOG%.log}.expires"
n=$(grep -c 'scope=repository%3Aberth-test%2Fmulti%3Apull auth=yes' "$REG_TOKEN_LOG" || true)
[ "$n" = 2 ] || die "expected 2 token fetches for 3 GETs with a 2.5 s pause before the last, got: $(cat "$REG_TOKEN_LOG")"
ok "expires_in honoured: a 2 s token serves two GETs, and a new one is fetched once it expired"

echo "passed: $passed"
