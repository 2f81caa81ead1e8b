"""The harness resolves Odoo's requirements the way this machine needs them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_requirements_resolved_for_python_312(tmp_path):
    """Odoo's Python 3.12 pins are chosen (they ship wheels); python-ldap is left out."""
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(
        "lxml==4.9.3 ; python_version > '3.10' and python_version < '3.12'\n"
        "lxml==5.2.1; python_version >= '3.12' # comment\n"
        "python-ldap==3.4.4 ; sys_platform != 'win32' and python_version >= '3.12'\n"
        "pytz  # no pin\n"
    )
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "resolve_odoo_requirements.py"), str(reqs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert out == ["lxml==5.2.1", "pytz"]
