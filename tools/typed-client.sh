#!/usr/bin/env bash
# A typed client from the served document: starts an embedded gateway, fetches
# /api/openapi.json, generates its TypeScript types (openapi-typescript), checks no answer is
# typed `unknown`, type-checks tools/typed-client/shop.ts (openapi-fetch, no casts) and runs it
# against the gateway: register, browse, order, read the order back.
# Needs `npm run build` first. Used by .ci/run; run it alone with `bash tools/typed-client.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The project's Node 22 (the `node` devDependency), whatever Node the machine has.
export PATH="$PWD/node_modules/.bin:$PATH"

out=$(realpath -m "${TYPED_CLIENT_OUT:-.ci/state/typed-client}")
started=$(date +%s)
say() { printf '[typed-client %3ss] %s\n' "$(($(date +%s) - started))" "$*"; }

[ -f dist/main.js ] || { echo "typed-client: dist/main.js is missing: run npm run build first"; exit 1; }
rm -rf "$out"
mkdir -p "$out"
data_dir=$(mktemp -d)
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
base="http://127.0.0.1:$port"

say "starting the gateway on $base (embedded default)"
env -u TRANSPORTER -u CACHER -u MONGO_URI \
  PORT="$port" DATA_DIR="$data_dir" NAMESPACE="typed-client-$$" METRICS=false LOGLEVEL=warn \
  JWT_SECRET="typed-client-$(head -c 24 /dev/urandom | base64)" \
  node dist/main.js >"$out/gateway.log" 2>&1 &
gateway=$!
cleanup() {
  kill "$gateway" 2>/dev/null || true
  wait "$gateway" 2>/dev/null || true
  rm -rf "$data_dir"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
  kill -0 "$gateway" 2>/dev/null || { cat "$out/gateway.log"; echo "typed-client: the gateway exited"; exit 1; }
  sleep 0.5
done

curl -fsS "$base/api/openapi.json" -o "$out/openapi.json"
node_modules/.bin/openapi-typescript "$out/openapi.json" -o tools/typed-client/openapi.d.ts >/dev/null
# A body or schema typed `unknown` is one a client cannot use. Allowed: the open maps of
# response headers and of the OpenAPI document's own body (`[name|key: string]: unknown`).
if grep -nE 'unknown' tools/typed-client/openapi.d.ts | grep -vE '\[(name|key): string\]: unknown;'; then
  echo "typed-client: the document leaves the types above open"
  exit 1
fi
say "generated tools/typed-client/openapi.d.ts; type-checking and compiling shop.ts"
node_modules/.bin/tsc -p tools/typed-client/tsconfig.json
say "running it against $base"
node "$out/shop.js" "$base"
