#!/usr/bin/env bash
# CI: build the Debian package, check it with lintian, install it on this machine the way an operator
# would (apt-get install ./clusterdns_*.deb), use the installed command, then purge it and check that
# no file of it is left. Needs root (or sudo); run by .ci/run after `npm test`.
# Loopback addresses 127.0.181.0/24 (the demo and a short-lived agent).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
fail() { echo "ci-package: $*" >&2; exit 1; }
step() { echo "=== $*"; }

step "npm run package"
npm run package
version=$(node -p "require('./package.json').version")
deb="build/clusterdns_${version}_all.deb"
[ -f "$deb" ] || fail "$deb was not built"
[ -f "build/clusterdns-${version}.tgz" ] || fail "the npm tarball was not built"

step "the npm tarball installs (no dependencies: the bundle is inside) and runs"
npm_prefix=$(mktemp -d)
npm install --silent --no-audit --no-fund --prefix "$npm_prefix" "./build/clusterdns-${version}.tgz"
got=$("$npm_prefix/node_modules/.bin/clusterdns" --version)
rm -rf "$npm_prefix"
[ "$got" = "$version" ] || fail "the npm tarball's clusterdns --version printed '$got', not $version"

step "lintian $deb"
# Warnings fail too; each accepted tag is overridden, with its reason, in deploy/debian/lintian-overrides.
lintian --fail-on error,warning "$deb"

# The package depends on nodejs (>= 20). Debian 12's own nodejs is 18, so apt must find a newer one
# already installed, or it would refuse the package (it never satisfies >= 20 with 18). CI's Node is
# NodeSource's nodejs .deb (dpkg -S /usr/bin/node names it), which satisfies the dependency as it
# is: nothing is forced. A Node installed some other way (a tarball, nvm) is not known to dpkg;
# then this says so and stops rather than forcing the install.
step "the Node that satisfies Depends: nodejs (>= 20)"
node_path=$(readlink -f "$(command -v node)")
owner=$(dpkg -S "$node_path" 2>/dev/null | cut -d: -f1) || true
[ "$owner" = nodejs ] || fail "$node_path is not from the nodejs package (dpkg -S: '${owner:-none}'): install Node >= 20 as a .deb (NodeSource, or Debian 13's nodejs) so that Depends: nodejs (>= 20) holds"
node_deb=$(dpkg-query -W -f '${Version}' nodejs)
dpkg --compare-versions "$node_deb" ge 20 || fail "installed nodejs is $node_deb, older than 20"
echo "node $(node --version) from the nodejs package $node_deb"

step "apt-get install ./$deb"
$SUDO apt-get install -y --no-install-recommends "./$deb"
cleanup() { $SUDO apt-get purge -y clusterdns >/dev/null 2>&1 || true; [ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null || true; [ -n "${tmp:-}" ] && rm -rf "$tmp"; }
trap cleanup EXIT
mapfile -t files < <(dpkg -L clusterdns)
[ "$(command -v clusterdns)" = /usr/bin/clusterdns ] || fail "clusterdns on PATH is $(command -v clusterdns), not /usr/bin/clusterdns"

step "clusterdns --version"
got=$(clusterdns --version)
[ "$got" = "$version" ] || fail "clusterdns --version printed '$got', not $version"

step "the service user and the config's modes"
getent passwd clusterdns >/dev/null || fail "postinst made no clusterdns user"
[ "$(stat -c '%U:%G %a' /etc/clusterdns/cluster.yaml)" = "root:clusterdns 640" ] || fail "cluster.yaml is $(stat -c '%U:%G %a' /etc/clusterdns/cluster.yaml), not root:clusterdns 640"
grep -qx /etc/clusterdns/cluster.yaml /var/lib/dpkg/info/clusterdns.conffiles || fail "cluster.yaml is not a conffile"

step "clusterdns config check on the installed example"
CLUSTERDNS_SECRET=ci-secret-0123456789abcdef-0123456789 clusterdns config check --config /etc/clusterdns/cluster.yaml

step "the unit: systemd-analyze verify, and its start is skipped while the config is the example"
unit=/lib/systemd/system/clusterdns.service
[ -f "$unit" ] || fail "$unit is not installed"
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
# systemd-analyze reports some problems without failing: any output is a failure here.
[ -z "$out" ] || fail "systemd-analyze verify: $out"
condition=$(sed -n 's/^ExecCondition=//p' "$unit")
[ -n "$condition" ] || fail "the unit has no ExecCondition"
if eval "$condition" 2>/dev/null; then fail "ExecCondition passes for the unedited example"; fi
tmp=$(mktemp -d)
cp /etc/clusterdns/cluster.yaml "$tmp/edited.yaml" && echo "# edited" >> "$tmp/edited.yaml"
edited=${condition//\/etc\/clusterdns\/cluster.yaml/$tmp\/edited.yaml}
eval "$edited" || fail "ExecCondition refuses an edited config"

step "clusterdns demo (installed command; it stops its agents and exits by itself)"
timeout 180 clusterdns demo --base 127.0.181.11 --port 18600 || fail "clusterdns demo failed or did not end within 180 s"

step "an installed agent serves its status page, status and metrics (files read beside the bundle: page/, metrics.js)"
cat > "$tmp/solo.yaml" <<'EOF'
zone: cluster.test
secret: "ci-secret-0123456789abcdef-0123456789"
dns: { port: 18610 }
peer: { port: 18611 }
http: { port: 18612 }
nodes:
  - { name: solo, address: 127.0.181.21 }
EOF
CLUSTERDNS_LOG_FORMAT=json clusterdns agent --config "$tmp/solo.yaml" --node solo > "$tmp/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 100); do grep -q '"event":"listening"' "$tmp/agent.log" && break; sleep 0.1; done
for path in / /assets/page.js /assets/page.css /v1/status /metrics; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.181.21:18612$path") || true
  [ "$code" = 200 ] || fail "GET $path answered $code: $(cat "$tmp/agent.log")"
done
if grep -q 'status page cannot be served' "$tmp/agent.log"; then fail "the agent could not read its page files"; fi
curl -s "http://127.0.181.21:18612/metrics" | grep -q '^clusterdns_info{' || fail "/metrics has no clusterdns_info"
kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true; agent_pid=""

step "an installed agent on a terminal writes readable lines (pino-pretty, pretty.js beside the bundle)"
script -qfc "timeout -s INT 3 clusterdns agent --config $tmp/solo.yaml --node solo" /dev/null > "$tmp/pretty.log" 2>&1 || true
grep -q 'INFO' "$tmp/pretty.log" && ! grep -q '^{' "$tmp/pretty.log" || fail "no readable log lines on a terminal: $(head -c 600 "$tmp/pretty.log")"

step "apt-get purge -y clusterdns leaves no file behind"
$SUDO apt-get purge -y clusterdns
status=$(dpkg-query -W -f '${db:Status-Status}' clusterdns 2>/dev/null || echo not-installed)
[ "$status" = not-installed ] || fail "dpkg still knows clusterdns after purge (status $status)"
left=()
for f in "${files[@]}"; do
  [ "$f" = /. ] && continue
  [ -e "$f" ] || [ -L "$f" ] || continue
  # A directory that stays because other packages own it (/usr/bin, /etc, …) is not ours.
  dpkg -S "$f" >/dev/null 2>&1 && [ -d "$f" ] && continue
  left+=("$f")
done
[ ${#left[@]} -eq 0 ] || fail "left after purge: ${left[*]}"
for d in /etc/clusterdns /usr/lib/clusterdns /usr/share/clusterdns /usr/share/doc/clusterdns; do
  [ ! -e "$d" ] || fail "$d is left after purge"
done
echo "ci-package: ok (${#files[@]} paths installed, none left after purge)"
