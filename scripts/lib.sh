# Shared by the scripts in this folder: system packages, PostgreSQL, the Odoo source, the project virtualenv.
# Sourced, not run. Every setting can be overridden from the environment.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export NORDIC_CACHE=${NORDIC_CACHE:-$HOME/.cache/nordic_dunning}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-$(id -un)}
mkdir -p "$NORDIC_CACHE"

die() { echo "ERROR: $*" >&2; exit 2; }

# --- System packages -------------------------------------------------------------------------
# Installed with apt-get when this user may (root, or passwordless sudo); otherwise the scripts
# stop with the exact command to run.
SUDO=""
can_install() {
  command -v apt-get >/dev/null || return 1
  if [ "$(id -u)" = 0 ]; then SUDO=""; return 0; fi
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; return 0; fi
  return 1
}

# apt_install "what it is for" PACKAGE...
apt_install() {
  local why=$1; shift
  can_install || die "Missing $* ($why). Install it with:  sudo apt-get update && sudo apt-get install -y $*"
  echo "Installing $* with apt-get ($why)..."
  local log="$NORDIC_CACHE/apt.log"
  if [ -z "${NORDIC_APT_UPDATED:-}" ]; then
    $SUDO apt-get update -qq >"$log" 2>&1 || echo "apt-get update failed (see $log); trying the install anyway"
    export NORDIC_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >>"$log" 2>&1 \
    || die "apt-get install $* failed (log: $log). Install it by hand: sudo apt-get install -y $*"
}

# need_command COMMAND PACKAGE "what it is for": install PACKAGE when COMMAND is missing.
need_command() {
  command -v "$1" >/dev/null || apt_install "$3" "$2"
  command -v "$1" >/dev/null || die "$2 was installed but '$1' is still not on PATH"
}

need_chromium() {
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
    || apt_install "the browser tours run in headless Chromium" chromium
}

need_python_venv() {
  python3 -c "import ensurepip, venv" 2>/dev/null || apt_install "Python virtual environments" python3-venv
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -n -u postgres "$@"; fi
}

# --- PostgreSQL ------------------------------------------------------------------------------
# A local server that is installed but stopped is started; one that is not installed at all is
# installed (and given a role for this user, trusted on the loopback address only).
ensure_pg() {
  pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null && return 0
  case "$PGHOST" in
    127.0.0.1 | localhost | ::1 | /*) ;;
    *) die "PostgreSQL does not answer on $PGHOST:$PGPORT. Start that server, or set PGHOST/PGPORT/PGUSER." ;;
  esac
  local fresh=0
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install "the database server Odoo runs on" postgresql
    fresh=1
  fi
  command -v pg_lsclusters >/dev/null || die "PostgreSQL is installed but pg_lsclusters is missing: start the server on $PGHOST:$PGPORT yourself."
  if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    local version
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    echo "Creating the PostgreSQL cluster $version/main..."
    $SUDO pg_createcluster "$version" main >/dev/null
  fi
  local ver name port status
  while read -r ver name port status _; do
    if [ "$status" != online ]; then
      echo "Starting PostgreSQL cluster $ver/$name (port $port)..."
      $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start \
        || die "Could not start PostgreSQL $ver/$name. Try: pg_ctlcluster --skip-systemctl-redirect $ver $name start"
    fi
  done < <(pg_lsclusters -h)
  local i
  for i in $(seq 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
  pg_isready -q -h "$PGHOST" -p "$PGPORT" || die "PostgreSQL still does not answer on $PGHOST:$PGPORT"
  if [ "$fresh" = 1 ] && ! psql -X -qAt -d postgres -c "SELECT 1" >/dev/null 2>&1; then
    echo "Giving the PostgreSQL role $PGUSER the right to create databases, trusted on the loopback address..."
    local hba
    hba=$(as_postgres psql -X -qAt -c "SHOW hba_file")
    as_postgres psql -X -q -c "CREATE ROLE \"$PGUSER\" LOGIN SUPERUSER" >/dev/null
    printf 'host all %s 127.0.0.1/32 trust\nhost all %s ::1/128 trust\n' "$PGUSER" "$PGUSER" | cat - "$hba" >"$hba.new"
    $SUDO cp "$hba.new" "$hba" && rm -f "$hba.new"
    while read -r ver name _; do $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload; done < <(pg_lsclusters -h)
  fi
}
check_pg() { ensure_pg; }

# --- Odoo source -----------------------------------------------------------------------------
# ODOO_PATH when it holds Odoo 18 (default /opt/odoo); else a tree in the cache, obtained once
# from ODOO_SOURCE or the pin in requirements/odoo.txt (scripts/odoo_source.py says how).
ensure_odoo() {
  [ -n "${ODOO_READY:-}" ] && return 0
  need_command git git "fetching the Odoo source"
  local path
  path=$(python3 "$ROOT/scripts/odoo_source.py") || exit 2
  export ODOO_PATH=$path ODOO_READY=1
}
check_odoo() { ensure_odoo; }

# The virtualenv is keyed by a hash of every requirement, so it is rebuilt only when one changes.
ensure_venv() {
  ensure_odoo
  need_python_venv
  local key
  key=$( (cat "$ODOO_PATH/requirements.txt" "$ROOT"/requirements/*.txt; python3 --version) | sha1sum | cut -c1-12)
  export VENV="$NORDIC_CACHE/venv-$key"
  mkdir -p "$NORDIC_CACHE"
  exec 9>"$NORDIC_CACHE/venv-$key.lock"
  flock 9  # two scripts starting at once must not build the same virtualenv twice
  if [ ! -f "$VENV/.complete" ]; then
    echo "Setting up the virtualenv $VENV (once; a few minutes)..."
    rm -rf "$VENV"; mkdir -p "$NORDIC_CACHE"
    python3 -m venv "$VENV"
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    "$VENV/bin/pip" install -q -U pip wheel setuptools packaging 2> >(grep -v "is ignored" >&2)
    "$VENV/bin/python" "$ROOT/scripts/resolve_odoo_requirements.py" "$ODOO_PATH/requirements.txt" > "$VENV/odoo-requirements.txt"
    "$VENV/bin/pip" install -q -r "$VENV/odoo-requirements.txt" 2> >(grep -v "is ignored" >&2)
    "$VENV/bin/pip" install -q -r "$ROOT/requirements/project.txt" 2> >(grep -v "is ignored" >&2)
    "$VENV/bin/pip" install -q --no-deps -r "$ROOT/requirements/oca-addons.txt" 2> >(grep -v "is ignored" >&2)
    touch "$VENV/.complete"
  fi
  flock -u 9
  # The sidecar runs from this checkout (python -m sidecar.cli), so one virtualenv serves every clone.
  export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
  export PATH="$VENV/bin:$PATH"
  OCA_ADDONS=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/odoo/addons
  export ADDONS_PATH="$ODOO_PATH/odoo/addons,$OCA_ADDONS,$ROOT/addons"
}
