#!/usr/bin/env bash
# Starts the real servers of the stack tests (DESIGN.md, "Testing against real components"),
# each only when nothing answers on its port yet, and waits until each answers:
#   NATS      nats-server (Debian)          127.0.0.1:4222 (monitoring 8222)
#   Redis     redis-server (Debian)         127.0.0.1:6379
#   PostgreSQL  Debian's 15 (initdb +       127.0.0.1:5433 ($PG_PORT), FerretDB's backend; data in
#               pg_ctl, not the package's   .ci/state/postgres, synchronous_commit=off
#               cluster)
#   FerretDB  1.24, PostgreSQL backend      127.0.0.1:27017 ($FERRETDB_PORT) (tools/ferretdb, built
#             (FERRETDB_BACKEND=sqlite:     with Go)
#             the SQLite one, no PostgreSQL)
#   Jaeger    v2 (module v1.76.0), memory   127.0.0.1:16686 query API/UI, 14268 Thrift HTTP,
#                                           6832/6831 Thrift UDP (tools/jaeger, built with Go)
#   Prometheus  Debian's package (unpacked  127.0.0.1:9090, configured by tools/prometheus-bench.mjs
#               into tools/.apt)            from deploy/prometheus; stack tests add their
#                                           processes as JSON files in $PROMETHEUS_TARGETS
# Installs what is missing (apt, go build). Logs and data go to .ci/state/.
# Prints `export` lines for the variables that point the suites at these servers.
# Arguments name the servers to start (`nats redis` for the benchmark); none: all of them
# (`ferretdb` brings its PostgreSQL).
# FERRETDB_PORT and PG_PORT move those two (a second bench beside a running one); a second bench
# needs its own state too: TEST_BENCH_STATE (default .ci/state).
set -euo pipefail
cd "$(dirname "$0")/.."
wanted=" ${*:-nats redis ferretdb jaeger prometheus} "
want() { [[ $wanted == *" $1 "* ]]; }
STATE="${TEST_BENCH_STATE:-$PWD/.ci/state}"
FERRETDB_PORT=${FERRETDB_PORT:-27017}
PG_PORT=${PG_PORT:-5433}
FERRETDB_BACKEND=${FERRETDB_BACKEND:-postgresql}
case $FERRETDB_BACKEND in postgresql | sqlite) ;; *)
  echo "[test-bench] ERROR: FERRETDB_BACKEND is postgresql or sqlite, not '$FERRETDB_BACKEND'" >&2
  exit 1
  ;;
esac
mkdir -p "$STATE"

say() { echo "[test-bench] $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name port seconds
  local name=$1 port=$2 limit=$3 i
  for ((i = 0; i < limit * 10; i++)); do
    if port_open "$port"; then say "$name answers on 127.0.0.1:$port"; return 0; fi
    sleep 0.1
  done
  say "ERROR: $name did not answer on 127.0.0.1:$port within ${limit}s (log: $STATE/$name.log)"
  tail -n 20 "$STATE/$name.log" >&2 || true
  return 1
}

apt_updated=0
apt_install() { # package...
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    apt-get update -qq >&2
    apt_updated=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# --- NATS ---------------------------------------------------------------------------------
if ! want nats; then
  :
elif port_open 4222; then
  say "NATS already running on 4222"
else
  command -v nats-server >/dev/null || apt_install nats-server
  say "starting nats-server"
  nohup nats-server -a 127.0.0.1 -p 4222 -m 8222 >"$STATE/nats.log" 2>&1 &
  wait_for nats 4222 20
fi

# --- Redis --------------------------------------------------------------------------------
if ! want redis; then
  :
elif port_open 6379; then
  say "Redis already running on 6379"
else
  command -v redis-server >/dev/null || apt_install redis-server
  say "starting redis-server"
  nohup redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no >"$STATE/redis.log" 2>&1 &
  wait_for redis 6379 20
fi

# --- PostgreSQL (FerretDB's backend) ------------------------------------------------------
# Debian's binaries, our own data directory: the package's cluster (5432) is left alone.
# synchronous_commit=off for the reason of SQLite's synchronous=NORMAL below: a commit does not
# wait for the WAL to reach the disk; a crash of PostgreSQL loses nothing, a power loss the last
# few hundred milliseconds, which a test bench can afford.
PG_DATA="$STATE/postgres"
pg_as() { # command... (initdb and pg_ctl refuse to run as root: as root, run them as `postgres`)
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if ! want ferretdb || [ "$FERRETDB_BACKEND" != postgresql ] || port_open "$FERRETDB_PORT"; then
  :
elif port_open "$PG_PORT"; then
  say "PostgreSQL already running on $PG_PORT"
else
  PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
  if [ ! -x "$PG_BIN/initdb" ]; then
    apt_install postgresql
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    say "initdb into $PG_DATA"
    rm -rf "$PG_DATA"
    mkdir -p "$PG_DATA"
    [ "$(id -u)" != 0 ] || chown postgres "$PG_DATA"
    pg_as "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 --no-sync >"$STATE/postgres-initdb.log"
  fi
  say "starting PostgreSQL ($PG_BIN) on $PG_PORT"
  touch "$STATE/postgres.log"
  [ "$(id -u)" != 0 ] || chown postgres "$STATE/postgres.log"
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$STATE/postgres.log" -w -t 60 start \
    -o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c synchronous_commit=off -c max_connections=200" >&2
  wait_for postgres "$PG_PORT" 30
fi

# --- FerretDB -----------------------------------------------------------------------------
if ! want ferretdb; then
  :
elif port_open "$FERRETDB_PORT"; then
  say "a Mongo-wire server is already running on $FERRETDB_PORT"
else
  if [ ! -x tools/ferretdb/ferretdb ] || [ tools/ferretdb/main.go -nt tools/ferretdb/ferretdb ]; then
    command -v go >/dev/null || { say "ERROR: Go is needed to build FerretDB"; exit 1; }
    say "building FerretDB 1.24 from the Go module proxy (first time takes a few minutes)"
    (cd tools/ferretdb && go build -o ferretdb .) >&2
  fi
  if [ "$FERRETDB_BACKEND" = postgresql ]; then
    # One PostgreSQL database holds every Mongo database of the tests (a schema each); a new
    # bench starts empty, as the SQLite one does.
    pg_url="postgres://postgres@127.0.0.1:$PG_PORT/ferretdb"
    psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
      -c "DROP DATABASE IF EXISTS ferretdb" -c "CREATE DATABASE ferretdb" >&2
    say "starting FerretDB on $FERRETDB_PORT (PostgreSQL on $PG_PORT)"
    nohup tools/ferretdb/ferretdb -listen "127.0.0.1:$FERRETDB_PORT" -postgresql-url "$pg_url" \
      >"$STATE/ferretdb.log" 2>&1 &
  else
    say "starting FerretDB on $FERRETDB_PORT (SQLite in $STATE/ferretdb)"
    rm -rf "$STATE/ferretdb"
    nohup tools/ferretdb/ferretdb -listen "127.0.0.1:$FERRETDB_PORT" -dir "$STATE/ferretdb" \
      >"$STATE/ferretdb.log" 2>&1 &
  fi
  wait_for ferretdb "$FERRETDB_PORT" 60
fi

# --- Jaeger -------------------------------------------------------------------------------
if ! want jaeger; then
  :
elif port_open 16686; then
  say "Jaeger already running on 16686"
else
  if [ ! -x tools/jaeger/jaeger ] || [ tools/jaeger/go.mod -nt tools/jaeger/jaeger ]; then
    command -v go >/dev/null || { say "ERROR: Go is needed to build Jaeger"; exit 1; }
    say "building Jaeger v2 (module v1.76.0, cmd/jaeger) from the Go module proxy (first time: minutes)"
    (cd tools/jaeger && GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
      go build -o jaeger github.com/jaegertracing/jaeger/cmd/jaeger) >&2
  fi
  say "starting Jaeger (memory storage)"
  nohup tools/jaeger/jaeger --config tools/jaeger/config.yaml >"$STATE/jaeger.log" 2>&1 &
  wait_for jaeger 16686 60
fi

# --- Prometheus ---------------------------------------------------------------------------
PROM_DIR="$STATE/prometheus"
if ! want prometheus; then
  :
elif port_open 9090; then
  say "Prometheus already running on 9090"
else
  if [ ! -x tools/.apt/bin/prometheus ]; then
    # Unpacked, not installed: the package's service would start a second Prometheus.
    say "unpacking prometheus from Debian's package into tools/.apt/bin"
    debs=$(mktemp -d)
    (cd "$debs" && { apt-get download -qq prometheus 2>/dev/null || { apt-get update -qq && apt-get download -qq prometheus; }; }) >&2
    dpkg-deb -x "$debs"/prometheus_*.deb "$debs/root"
    mkdir -p tools/.apt/bin
    cp "$debs/root/usr/bin/prometheus" tools/.apt/bin/
    rm -rf "$debs"
  fi
  say "starting Prometheus (config from deploy/prometheus, targets in $PROM_DIR/targets)"
  rm -rf "$PROM_DIR"
  node_modules/.bin/node tools/prometheus-bench.mjs "$PROM_DIR"
  nohup tools/.apt/bin/prometheus --config.file="$PROM_DIR/prometheus.yml" \
    --storage.tsdb.path="$PROM_DIR/data" --web.listen-address=127.0.0.1:9090 \
    >"$STATE/prometheus.log" 2>&1 &
  wait_for prometheus 9090 60
fi

! want nats || echo "export TRANSPORTER=nats://127.0.0.1:4222"
! want redis || echo "export CACHER=redis://127.0.0.1:6379"
! want ferretdb || echo "export MONGO_URI=mongodb://127.0.0.1:$FERRETDB_PORT/commerce_mesh_test"
! want jaeger || echo "export JAEGER_QUERY_URL=http://127.0.0.1:16686 JAEGER_COLLECTOR=http://127.0.0.1:14268/api/traces"
! want prometheus || echo "export PROMETHEUS_URL=http://127.0.0.1:9090 PROMETHEUS_TARGETS=$PROM_DIR/targets"
