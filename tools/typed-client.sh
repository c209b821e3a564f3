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
# shellcheck source=tools/lib/embedded-gateway.sh
source tools/lib/embedded-gateway.sh

out=$(realpath -m "${TYPED_CLIENT_OUT:-.ci/state/typed-client}")
started=$(date +%s)
say() { printf '[typed-client %3ss] %s\n' "$(($(date +%s) - started))" "$*"; }

[ -f dist/main.js ] || { echo "typed-client: dist/main.js is missing: run npm run build first"; exit 1; }
rm -rf "$out"
mkdir -p "$out"
say "starting the gateway (embedded default)"
start_embedded_gateway typed-client "$out/gateway.log"
say "gateway on $base"

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
