# Shared by scripts/run and scripts/test: a virtualenv with the pinned requirements.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}

ensure_venv() {  # $1: requirements file
  local req=$1 stamp=.venv/.installed-$(basename "$1")
  if [ ! -x .venv/bin/python ]; then
    echo "==> Creating the virtualenv in .venv"
    "$PY" -m venv .venv || { echo "error: '$PY -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
  fi
  local want
  want=$(cat requirements.txt "$req" | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> Installing $(basename "$req") (pinned versions)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
  fi
}
