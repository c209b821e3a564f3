#!/usr/bin/env bash
# `npm run bench` / `npm run chaos`: build, make sure the real servers run (tools/test-bench.sh
# starts the missing ones), then run dist/bench/<script>.js.
#   run (the benchmark): NATS and Redis; the Mongo-wire database too when MONGO_URI is set (else NeDB).
#   chaos: NATS, Redis and a Mongo-wire database (killed processes must find their data again).
# Variables already set (TRANSPORTER, CACHER, MONGO_URI) are kept: they may name other servers.
set -euo pipefail
cd "$(dirname "$0")/.."
script=${1:?usage: bench/run.sh run|chaos}
npm run build --silent
servers="nats redis"
if [ "$script" = chaos ] || [ -n "${MONGO_URI:-}" ]; then servers="$servers ferretdb"; fi
keep_mongo=${MONGO_URI:-}
keep_nats=${TRANSPORTER:-}
keep_redis=${CACHER:-}
eval "$(bash tools/test-bench.sh $servers)"
export TRANSPORTER=${keep_nats:-$TRANSPORTER} CACHER=${keep_redis:-$CACHER}
if [ -n "$keep_mongo" ]; then export MONGO_URI=$keep_mongo; fi
exec node "dist/bench/$script.js"
