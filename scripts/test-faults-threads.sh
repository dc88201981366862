#!/usr/bin/env bash
# The fault lab (root) on agents with 2 answer threads (dns.workers: 2) under Node 24, which shares
# a UDP port between threads (issue 17). A 3-node LAN cluster and the scenarios that load or break
# the answer path and the detector: kills, pauses, a partition, a one-way link, loss, a clock step,
# a DNS flood. Each agent's status must show its 2 worker threads serving, or the run fails.
# Usage: scripts/test-faults-threads.sh [NODE_MAJOR_OR_VERSION]   (default 24)
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin="$(scripts/node-binary.sh "${1:-24}")"
echo "=== fault lab: agents on Node $("$node_bin" --version), dns.workers 2"
npm run build >/dev/null
LAB_NODE="$node_bin" LAB_DNS_WORKERS=2 LAB_SIZES=3 LAB_WAN_SIZES= LAB_ROLLOUT=0 \
  LAB_ONLY=start,kill,pause-0.5s,pause-5s,isolate,one-way,loss-20%,clock-step,dns-flood \
  node node_modules/vitest/vitest.mjs run --config vitest.faults.config.mts
