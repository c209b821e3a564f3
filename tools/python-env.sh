#!/usr/bin/env bash
# The Python toolchain of services-py/recommendations: a venv in .ci/state/venv-py with the
# service, its dependencies and its dev tools (ruff, pytest) from PyPI. Reused as long as
# pyproject.toml has not changed (its hash is stamped in the venv); rebuilt otherwise.
# Needs Python 3.12+: $PYTHON, else pyenv's newest 3.12+, else python3.13/python3.12 on PATH.
# Prints the venv's python path (and nothing else on stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$PWD/.ci/state/venv-py"
PROJECT="$PWD/services-py/recommendations"
say() { echo "[python-env] $*" >&2; }

stamp=$(sha256sum "$PROJECT/pyproject.toml" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$VENV/bin/python"
  exit 0
fi

is_312() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.* 2>/dev/null | sort -rV) \
    "$(command -v python3.13 || true)" "$(command -v python3.12 || true)"; do
    [ -d "$candidate" ] && candidate="$candidate/bin/python3"
    if [ -n "$candidate" ] && is_312 "$candidate"; then python=$candidate; break; fi
  done
fi
if [ -z "$python" ] || ! is_312 "$python"; then
  say "ERROR: no Python 3.12+ found (set PYTHON, or install one with pyenv)"
  exit 1
fi

say "creating $VENV with $("$python" --version) ($python)"
rm -rf "$VENV"
"$python" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -e "$PROJECT[dev]" >&2
echo "$stamp" >"$VENV/.stamp"
echo "$VENV/bin/python"
