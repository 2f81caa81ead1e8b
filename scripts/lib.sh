# Shared by the scripts in this folder: locate Odoo, build the project virtualenv.
# Sourced, not run. Every setting can be overridden from the environment.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ODOO_PATH=${ODOO_PATH:-/opt/odoo}
export NORDIC_CACHE=${NORDIC_CACHE:-$HOME/.cache/nordic_dunning}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-$(id -un)}

die() { echo "ERROR: $*" >&2; exit 2; }

check_odoo() {
  [ -f "$ODOO_PATH/odoo-bin" ] && [ -f "$ODOO_PATH/odoo/release.py" ] && [ -f "$ODOO_PATH/requirements.txt" ] || die \
"Odoo 18.0 source not found at ODOO_PATH=$ODOO_PATH (need odoo-bin, odoo/ and requirements.txt).
Put the Odoo 18.0 Community source there (see README.md, 'Odoo source'), or set ODOO_PATH."
  grep -q "18, 0" "$ODOO_PATH/odoo/release.py" || die "$ODOO_PATH does not hold Odoo 18.0 (odoo/release.py)."
}

check_pg() {
  pg_isready -q -h "$PGHOST" -p "$PGPORT" || die "PostgreSQL does not answer on $PGHOST:$PGPORT.
Start it, e.g.: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
}

# The virtualenv is keyed by a hash of every requirement, so it is rebuilt only when one changes.
ensure_venv() {
  check_odoo
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
