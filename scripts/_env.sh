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

# PostgreSQL and Redis on 127.0.0.1: start them if installed but stopped, say clearly if missing.
ensure_services() {
  local pghost=${PGHOST:-127.0.0.1}
  if ! pg_isready -q -h "$pghost" -p 5432 2>/dev/null; then
    if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
      echo "==> Starting PostgreSQL" >&2
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start \
        || fail "PostgreSQL is installed but would not start (see /var/log/postgresql/)."
      for _ in $(seq 1 30); do pg_isready -q -h "$pghost" -p 5432 && break; sleep 0.5; done
    else
      fail "PostgreSQL is not installed. It is needed: apt-get install postgresql (trust auth for user postgres on 127.0.0.1), or set DATABASE_URL."
    fi
  fi
  pg_isready -q -h "$pghost" -p 5432 || fail "PostgreSQL does not answer on $pghost:5432."

  if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    command -v redis-server >/dev/null || fail "Redis is not installed. It is needed: apt-get install redis-server."
    echo "==> Starting Redis" >&2
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null || fail "Redis would not start."
    for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.25; done
  fi
}
