"""Real Odoo processes for the end-to-end tests and the benchmark: a database, an odoo-bin server, odoo shell."""

import importlib.util
import os
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The addon that brings every part of the project (engine, collection, approvals).
ADDON = "nordic_dunning_approval"


def harness():
    """scripts/harness.py as a module (odoo_cmd, copy_db, drop_db, free_port...)."""
    spec = importlib.util.spec_from_file_location("nordic_harness", ROOT / "scripts" / "harness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def odoo_env():
    """The environment odoo-bin needs (ADDONS_PATH as scripts/lib.sh sets it)."""
    env = dict(os.environ)
    if "ADDONS_PATH" not in env:
        odoo_path = env.get("ODOO_PATH", "/opt/odoo")
        oca = Path(sysconfig.get_paths()["purelib"]) / "odoo" / "addons"
        env["ADDONS_PATH"] = f"{odoo_path}/odoo/addons,{oca},{ROOT / 'addons'}"
        os.environ["ADDONS_PATH"] = env["ADDONS_PATH"]
    return env


def prepare_database(name=None):
    """NORDIC_TEST_DB when set (scripts/test made it), else a fresh copy of the template with the addon
    installed. Returns (db, created)."""
    if os.environ.get("NORDIC_TEST_DB") and not name:
        return os.environ["NORDIC_TEST_DB"], False
    h = harness()
    odoo_env()
    db = name or f"nordic_e2e_{os.getpid()}"
    h.copy_db(h.ensure_template(), db)
    log = ROOT / "var" / f"install-{db}.log"
    log.parent.mkdir(exist_ok=True)
    with open(log, "w") as handle:
        result = subprocess.run(
            h.odoo_cmd(db, "-i", ADDON, "--stop-after-init", "--log-level=warn"),
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=odoo_env(),
        )
    if result.returncode:
        raise RuntimeError(f"installing {ADDON} on {db} failed; see {log}")
    return db, True


def drop_database(db):
    harness().drop_db(db)


def odoo_shell(db, code, timeout=600):
    """Run ``code`` in ``odoo-bin shell`` on db (it must commit itself); returns stdout.

    The shell then tells running servers of db to drop their caches (as a request of Odoo's own would): a
    server must not keep serving, say, a user's companies as they were before the shell changed them.
    """
    cmd = harness().odoo_cmd(db, "--log-level=warn", shell=True)
    code = f"{code}\nenv.registry.clear_all_caches()\nenv.registry.signal_changes()\n"
    result = subprocess.run(cmd, input=code, text=True, capture_output=True, timeout=timeout, env=odoo_env())
    if result.returncode or "Traceback" in result.stderr:
        raise RuntimeError(f"odoo shell failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout


class OdooServer:
    """odoo-bin serving one database on a free loopback port."""

    def __init__(self, db, workers=0):
        h = harness()
        self.db = db
        self.port = h.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ROOT / "var" / f"odoo-e2e-{db}-{self.port}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        args = ["--log-level=warn"] + ([f"--workers={workers}"] if workers else [])
        self._log = open(self.log_path, "w")  # closed in stop()
        self.process = subprocess.Popen(
            h.odoo_cmd(db, *args, http_port=self.port), stdout=self._log, stderr=subprocess.STDOUT, env=odoo_env()
        )
        self._wait()

    def _wait(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"odoo-bin exited ({self.process.returncode}); see {self.log_path}")
            try:
                request = urllib.request.Request(
                    self.url + "/web/webclient/version_info", data=b"{}", headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"odoo-bin did not answer in {timeout}s; see {self.log_path}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


def sidecar_env(server, login, api_key, **extra):
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ODOO_URL": server.url,
        "ODOO_DB": server.db,
        "ODOO_LOGIN": login,
        "ODOO_API_KEY": api_key,
        "NORDIC_SIDECAR_AGENCY_BACKOFF": "0.05",
        **{key: str(value) for key, value in extra.items()},
    }


def run_sidecar(env, *args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "sidecar.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
