#!/usr/bin/env bash
# Fuzzes the API with schemathesis against a live gateway on the embedded default, three times:
# anonymous, as a customer, as an admin. It is a gate on the served document: the run fails when
# any response is a 5xx, has a status the operation does not declare, a Content-Type it does not
# declare, a body or a header its schema rejects (`GATE_CHECKS` below), or when a run sent nothing.
#
#   bash tools/fuzz.sh            (needs `npm run build` first: it starts dist/main.js)
#
# FUZZ_MAX_TIME (seconds per identity, default 60) and FUZZ_MAX_EXAMPLES (per operation, default
# 40) bound the run; FUZZ_VENV (default .ci/state/venv) is reused when it already has schemathesis.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/lib/embedded-gateway.sh
source tools/lib/embedded-gateway.sh

SCHEMATHESIS_VERSION=4.32.5
venv=$(realpath -m "${FUZZ_VENV:-.ci/state/venv}")
max_time=${FUZZ_MAX_TIME:-60}
max_examples=${FUZZ_MAX_EXAMPLES:-40}
out=$(realpath -m "${FUZZ_OUT:-.ci/state/fuzz}")
# What the document promises, checked on every response, and a 405 with `Allow` for each method
# a path does not declare (`unsupported_method`). The other request-side checks of `all`
# (whether schema-violating requests are refused, whether every schema-valid one is accepted)
# are not here: they judge the gateway's input handling against what a schema can say (a
# `minPrice` above `maxPrice` is schema-valid and refused), and a failure of one ends the
# fuzzing of that operation before the checks above have seen its answers.
GATE_CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,unsupported_method
started=$(date +%s)
say() { printf '[fuzz %3ss] %s\n' "$(($(date +%s) - started))" "$*"; }

# schemathesis needs Python 3.12+ (Debian's python3 is 3.11): the first one found.
find_python() {
  local candidate
  for candidate in python3.13 python3.12 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 python3; do
    command -v "$candidate" >/dev/null 2>&1 || [ -x "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  return 1
}

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python=$(find_python) || { echo "fuzz: no Python 3.12+ found (schemathesis needs it)"; exit 1; }
  say "creating $venv with $("$python" --version) and schemathesis $SCHEMATHESIS_VERSION"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
[ -f dist/main.js ] || { echo "fuzz: dist/main.js is missing: run npm run build first"; exit 1; }

rm -rf "$out"
mkdir -p "$out"
admin_email="fuzz-admin@example.com"
admin_password="fuzz-admin-password-1"

say "starting the gateway (embedded default)"
start_embedded_gateway fuzz "$out/gateway.log" \
  ADMIN_EMAIL="$admin_email" ADMIN_PASSWORD="$admin_password" \
  RATE_LIMIT_MAX=100000000 RATE_LIMIT_AUTH_MAX=100000000 PAYMENT_SLOW_MS=200
say "gateway on $base"

token_of() { "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["token"])'; }
admin_token=$(curl -fsS -H 'content-type: application/json' \
  -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" "$base/api/auth/login" | token_of)
customer_token=$(curl -fsS -H 'content-type: application/json' \
  -d '{"email":"fuzz-customer@example.com","password":"fuzz-customer-1","name":"Fuzz"}' \
  "$base/api/auth/register" | token_of)
say "tokens: admin and customer obtained"

# schemathesis signs itself up through POST /api/auth/register when no Authorization is given:
# off, so the anonymous run is anonymous (the 401s of user routes are checked too).
printf '[auth]\nauto-signup = false\n' >"$out/schemathesis.toml"

# One identity: schemathesis with the gate's checks, its responses recorded as HAR for the 5xx
# count. The server is given with --url: the document's own is the relative `/`.
# Not GET /api/products/{id}/recommendations: its ranking comes from the Python service, which
# the embedded default does not run, so it answers 503 by design (docs/ARCHITECTURE.md);
# test/integration/gateway.test.ts checks its 404, 422 and 503.
# Nor the event streams (every path ending in /stream, declared `text/event-stream`): a stream
# never ends, so each request to one would only run into the request timeout;
# test/integration/order-stream.test.ts checks them. Nor the single fault rules
# (/api/admin/faults/{target}): as the admin, a generated PUT would inject failures or delays on
# purpose (a target of `*` fails every action), which is no finding of the API;
# test/integration/console.test.ts checks them.
fuzz() {
  local who=$1
  shift
  say "schemathesis as $who (max ${max_time}s, ${max_examples} examples per operation)"
  local status=0
  # Run inside $out: schemathesis keeps its cache of past failures in ./.schemathesis.
  (cd "$out" && "$venv/bin/schemathesis" --config-file schemathesis.toml run \
    "$base/api/openapi.json" --url "$base" --checks "$GATE_CHECKS" \
    --workers 2 --max-time "$max_time" --max-examples "$max_examples" --request-timeout 15 \
    --seed 1 --suppress-health-check all --warnings off --no-color \
    --exclude-path-regex '/recommendations$|/stream$|/admin/faults/' \
    --report har,junit --report-har-path "$who.har" --report-junit-path "$who.xml" \
    "$@" >"$who.log" 2>&1) || status=$?
  # The failures (what was answered, the curl to reproduce it), else the summary.
  if [ "$status" -ne 0 ] && grep -q '^=* FAILURES =*$' "$out/$who.log"; then
    sed -n '/^=* FAILURES =*$/,$p' "$out/$who.log" | sed "s/^/  [$who] /"
  else
    tail -n 25 "$out/$who.log" | sed "s/^/  [$who] /"
  fi
  echo "$status" >"$out/$who.status"
}

fuzz anonymous
fuzz customer -H "Authorization: Bearer $customer_token"
fuzz admin -H "Authorization: Bearer $admin_token"

# Every response of the three runs, from the HAR files: how many, how many 5xx (and which).
"$venv/bin/python" - "$out" <<'PY' >"$out/summary.txt"
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
total = errors = empty = 0
seen = {}
for who in ("anonymous", "customer", "admin"):
    har = out / f"{who}.har"
    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    fives = [e for e in entries if e["response"]["status"] >= 500]
    total += len(entries)
    errors += len(fives)
    empty += len(entries) == 0
    print(f"{who}: {len(entries)} requests, {len(fives)} 5xx")
    for e in fives:
        key = (e["request"]["method"], e["request"]["url"].split("?")[0], e["response"]["status"])
        seen[key] = seen.get(key, 0) + 1
for (method, url, status), n in sorted(seen.items()):
    print(f"  5xx: {status} {method} {url} x{n}")
print(f"TOTAL {total} {errors} {empty}")
PY
sed '/^TOTAL/d' "$out/summary.txt"
read -r _ total fives empty < <(grep '^TOTAL' "$out/summary.txt")
failed_runs=0
for who in anonymous customer admin; do
  [ "$(cat "$out/$who.status")" = "0" ] || failed_runs=$((failed_runs + 1))
done
logged=$(grep -c 'failed:' "$out/gateway.log" || true)

echo "fuzz: $total requests, $fives 5xx, $logged 5xx logged by the gateway, $empty of 3 runs sent nothing, $failed_runs of 3 runs failed their checks (reports in $out)"
# A run that sent nothing proves nothing: it fails too.
[ "$empty" -eq 0 ] && [ "$fives" -eq 0 ] && [ "$logged" -eq 0 ] && [ "$failed_runs" -eq 0 ]
