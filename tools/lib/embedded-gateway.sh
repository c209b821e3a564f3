# Sourced by tools/fuzz.sh and tools/typed-client.sh: one embedded-default node (every service,
# NeDB in a temporary data dir, no transporter, cache or database server) on a free port, stopped
# and its data removed when the calling script exits.
#   start_embedded_gateway <name> <log file> [VAR=value ...]
# sets `base` (http://127.0.0.1:<port>) and returns once /health/ready answers; the node's
# output goes to the log file, printed if it exits first.
start_embedded_gateway() {
  local name=$1 log=$2
  shift 2
  local port
  port=$(node_modules/.bin/node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  base="http://127.0.0.1:$port"
  gateway_data_dir=$(mktemp -d)
  env -u TRANSPORTER -u CACHER -u MONGO_URI \
    PORT="$port" DATA_DIR="$gateway_data_dir" NAMESPACE="$name-$$" METRICS=false LOGLEVEL=warn \
    JWT_SECRET="$name-$(head -c 24 /dev/urandom | base64)" "$@" \
    node_modules/.bin/node --experimental-async-context-frame dist/main.js >"$log" 2>&1 &
  gateway_pid=$!
  trap stop_embedded_gateway EXIT
  for _ in $(seq 1 120); do
    curl -fsS "$base/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$gateway_pid" 2>/dev/null || { cat "$log"; echo "$name: the gateway exited"; exit 1; }
    sleep 0.5
  done
  echo "$name: the gateway never became ready"
  exit 1
}

stop_embedded_gateway() {
  kill "$gateway_pid" 2>/dev/null || true
  wait "$gateway_pid" 2>/dev/null || true
  rm -rf "$gateway_data_dir"
}
