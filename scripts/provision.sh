#!/usr/bin/env bash
# Installs what Onsite24 needs on a Debian/Ubuntu machine and prepares the local services.
#   scripts/provision.sh packages   - PostgreSQL + PostGIS + pgRouting, Mosquitto, Chromium (browser tests), Python venv tools
#   scripts/provision.sh venv       - .venv with the package and its dev tools
#   scripts/provision.sh board      - the dispatcher board: npm ci (from package-lock.json) and the Vite build
#   scripts/provision.sh app        - the technician app (app/): the same, built into technician_api/webapp/static
#   scripts/provision.sh anydate    - Debian's faketime and a C compiler, for `make test-anydate`
#   scripts/provision.sh services   - a running PostgreSQL with a PostGIS database, a broker with the product config,
#                                     and .onsite24/env with the generated local secrets
# Every step checks first and is safe to repeat.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE="$ROOT/.onsite24"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
DEMO_MQTT_PORT="${ONSITE24_DEMO_MQTT_PORT:-1884}"

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

pg_version() { ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1; }

packages() {
  command -v apt-get >/dev/null || { echo "This script needs a Debian/Ubuntu machine (apt-get)." >&2; exit 1; }
  apt_install postgresql postgresql-contrib mosquitto mosquitto-clients python3-venv python3-dev gcc openssl
  apt_install "postgresql-$(pg_version)-postgis-3" "postgresql-$(pg_version)-pgrouting"
  # The PDF report embeds a TrueType CJK font (Chinese and Hangul); Noto CJK is CFF, which reportlab cannot embed.
  apt_install fonts-wqy-zenhei fonts-dejavu-core
  if [ "${WITH_BROWSER:-1}" = 1 ]; then apt_install chromium fonts-noto-cjk; fi
  if [ "${WITH_NODE:-1}" = 1 ] && ! command -v npm >/dev/null; then apt_install nodejs npm; fi
}

venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.onsite24-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing onsite24 and its dev tools into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[dev,bench]"
    touch "$stamp"
  fi
}

# npm packages of a front end (its folder) from its package-lock.json, then its Vite build.
npm_build() {
  local dir=$1 what=$2 out=$3
  command -v npm >/dev/null || { echo "npm is needed to build the $what (apt-get install nodejs npm)." >&2; exit 1; }
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing the $what's npm packages (from package-lock.json)"
    # npm 11.19 `npm ci` refuses a lock file whose other-platform optional packages (rollup, esbuild) it
    # pruned itself; `npm install --no-save` then installs the same locked versions without rewriting it.
    (cd "$dir" && { npm ci --no-audit --no-fund --loglevel=error 2>/dev/null \
                   || npm install --no-save --no-audit --no-fund --loglevel=error; })
  fi
  say "building the $what into $out"
  (cd "$dir" && npm run --silent build)
}

board() { npm_build board board dispatch/board/static; }
app() { npm_build app "technician app" technician_api/webapp/static; }

ensure_env() {
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  if [ ! -f "$STATE/env" ]; then
    say "generating local secrets in .onsite24/env"
    local dbpw gwpw
    dbpw=$(openssl rand -hex 16)
    gwpw=$(openssl rand -hex 16)
    cat > "$STATE/env" <<ENV
ONSITE24_DATABASE_URL=postgresql+psycopg://onsite24:${dbpw}@127.0.0.1:5432/onsite24
ONSITE24_MQTT_URL=mqtt://127.0.0.1:${DEMO_MQTT_PORT}
ONSITE24_MQTT_USERNAME=onsite24-gateway
ONSITE24_MQTT_PASSWORD=${gwpw}
ONSITE24_MOSQUITTO_DIR=${STATE}/mosquitto
ENV
    chmod 600 "$STATE/env"
  fi
}

env_get() { grep "^$1=" "$STATE/env" | head -n 1 | cut -d= -f2-; }

postgres() {
  local ver; ver=$(pg_version)
  if command -v pg_lsclusters >/dev/null && ! pg_lsclusters -h | awk '$4=="online"' | grep -q .; then
    say "starting PostgreSQL $ver"
    if ! pg_lsclusters -h | grep -q .; then $SUDO pg_createcluster "$ver" main; fi
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || $SUDO pg_ctlcluster "$ver" main start
  fi
  local url dbpw
  url=$(env_get ONSITE24_DATABASE_URL)
  dbpw=$(echo "$url" | sed -E 's#.*//onsite24:([^@]*)@.*#\1#')
  as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else $SUDO -u postgres "$@"; fi; }
  as_pg psql -qtAX -c "SELECT 1" >/dev/null
  if [ -z "$(as_pg psql -qtAX -c "SELECT 1 FROM pg_roles WHERE rolname='onsite24'")" ]; then
    say "creating database role onsite24"
    as_pg psql -qX -c "CREATE ROLE onsite24 LOGIN PASSWORD '${dbpw}'"
  else
    as_pg psql -qX -c "ALTER ROLE onsite24 PASSWORD '${dbpw}'" >/dev/null
  fi
  if [ -z "$(as_pg psql -qtAX -c "SELECT 1 FROM pg_database WHERE datname='onsite24'")" ]; then
    say "creating database onsite24 with PostGIS"
    as_pg psql -qX -c "CREATE DATABASE onsite24 OWNER onsite24"
  fi
  as_pg psql -qX -d onsite24 -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  # Road networks (onsite24 roads import): pgRouting's functions run on the imported road_edges table.
  as_pg psql -qX -d onsite24 -c "CREATE EXTENSION IF NOT EXISTS pgrouting" >/dev/null
}

broker() {
  local dir pw
  dir=$(env_get ONSITE24_MOSQUITTO_DIR)
  pw=$(env_get ONSITE24_MQTT_PASSWORD)
  mkdir -p "$dir/data"
  "$VENV/bin/python" -m device_gateway.broker write-config --dir "$dir" --port "$DEMO_MQTT_PORT" \
    --gateway-user onsite24-gateway --gateway-password "$pw"
  if [ -f "$dir/mosquitto.pid" ] && kill -0 "$(cat "$dir/mosquitto.pid")" 2>/dev/null; then
    kill -HUP "$(cat "$dir/mosquitto.pid")"   # reload passwords and ACLs
  else
    say "starting Mosquitto on 127.0.0.1:${DEMO_MQTT_PORT} with the product config"
    mosquitto -d -c "$dir/mosquitto.conf"
  fi
}

# `make test-anydate` runs the suite with the clock moved (scripts/anydate/run.py); CI does not need it.
anydate() {
  apt_install faketime gcc libc6-dev tzdata
}

case "${1:-all}" in
  packages) packages ;;
  anydate) anydate ;;
  venv) venv ;;
  board) board ;;
  app) app ;;
  services) ensure_env; postgres; broker ;;
  all) packages; venv; board; app; ensure_env; postgres; broker ;;
  *) echo "usage: $0 [packages|venv|board|app|anydate|services|all]" >&2; exit 2 ;;
esac
