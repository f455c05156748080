#!/usr/bin/env bash
# Set up everything gridmap needs on Debian/Ubuntu; safe to run again (it skips what is done).
#   system packages : SpatiaLite, PostgreSQL + PostGIS, GDAL tools, Chromium, Node.js/npm, python3-venv
#   services        : starts PostgreSQL, creates the role/database the tests use (with PostGIS)
#   python          : .venv with gridmap and its dev dependencies
#   web assets      : Leaflet & co. from the npm registry into service/static/vendor
# Environment: GRIDMAP_SKIP_SYSTEM=1 skips apt and PostgreSQL (for machines you do not administer);
#              GRIDMAP_SKIP_POSTGIS=1 skips PostgreSQL/PostGIS only (the demo runs on SpatiaLite).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

pg_major() {
  # Major version of the PostgreSQL server installed (or the candidate one).
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
  if [ -z "$v" ]; then
    v=$(apt-cache depends postgresql 2>/dev/null | sed -n 's/.*Depends: postgresql-\([0-9]\+\)$/\1/p' | head -1)
  fi
  echo "$v"
}

install_system_packages() {
  local wanted=(libsqlite3-mod-spatialite gdal-bin chromium nodejs npm python3-venv fonts-noto-cjk wrk)
  [ "${GRIDMAP_SKIP_POSTGIS:-0}" = 1 ] || wanted+=(postgresql)
  local missing=() p
  for p in "${wanted[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  # Node/npm or python may come from elsewhere (nvm, pyenv): then the Debian packages are not needed.
  if command -v npm >/dev/null; then missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}"); fi
  if python3 -c 'import venv, ensurepip' 2>/dev/null; then missing=("${missing[@]/python3-venv/}"); fi
  if command -v pg_ctlcluster >/dev/null && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    missing=("${missing[@]/postgresql/}")
  fi
  local todo=()
  for p in "${missing[@]}"; do [ -n "$p" ] && todo+=("$p"); done
  local need_update=1
  if [ ${#todo[@]} -gt 0 ]; then
    log "installing system packages: ${todo[*]}"
    as_root apt-get update -qq; need_update=0
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${todo[@]}" >/dev/null
  fi
  [ "${GRIDMAP_SKIP_POSTGIS:-0}" = 1 ] && return 0
  local major; major=$(pg_major)
  if [ -n "$major" ] && ! dpkg -s "postgresql-$major-postgis-3" >/dev/null 2>&1; then
    log "installing PostGIS for PostgreSQL $major"
    [ "$need_update" = 1 ] && as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "postgresql-$major-postgis-3" >/dev/null
  fi
}

psql_admin() {
  # Run psql as the database superuser: over TCP when trusted (CI), else as the postgres OS user.
  if psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
  else
    as_root runuser -u postgres -- psql -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
  fi
}

start_postgres() {
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    local major; major=$(pg_major)
    log "starting PostgreSQL $major"
    as_root pg_ctlcluster --skip-systemctl-redirect "$major" main start || as_root pg_ctlcluster "$major" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  # A password role works whatever the local auth method (trust on CI, scram on a fresh install).
  psql_admin -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gridmap') THEN
        CREATE ROLE gridmap LOGIN SUPERUSER PASSWORD 'gridmap';
      END IF; END \$\$;"
  if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'gridmap_test'")" ]; then
    psql_admin -c "CREATE DATABASE gridmap_test OWNER gridmap"
  fi
  PGPASSWORD=gridmap psql -h 127.0.0.1 -U gridmap -d gridmap_test -qtAc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
}

quiet_pip() {
  # pip configurations that list absent local indexes print one warning per package: drop those.
  grep -v 'is ignored: it is neither a file nor a directory' || true
}

install_python() {
  local stamp=.venv/.installed
  local want; want=$(cat pyproject.toml | sha256sum | cut -c1-16)
  if [ ! -x .venv/bin/python ]; then log "creating .venv"; python3 -m venv .venv; fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing gridmap and its dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip 2>&1 | quiet_pip
    .venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | quiet_pip
    echo "$want" > "$stamp"
  fi
}

install_web_assets() {
  if [ -f service/static/package.json ]; then
    local stamp=service/static/vendor/.installed
    local want; want=$(cat service/static/package.json service/static/package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
      log "installing web assets (npm)"
      (cd service/static && npm ci --silent --no-audit --no-fund --ignore-scripts)
      .venv/bin/python -m service.assets --install
      echo "$want" > "$stamp"
    fi
  fi
}

if [ "${GRIDMAP_SKIP_SYSTEM:-0}" != 1 ]; then
  install_system_packages
  [ "${GRIDMAP_SKIP_POSTGIS:-0}" = 1 ] || start_postgres
fi
install_python
install_web_assets
log "ready"
