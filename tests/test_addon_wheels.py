"""Each addon installs as Odoo users install OCA addons: `pip install ./addons/<addon>` (whool).

The wheel of every addon in addons/ is built and must carry the manifest, every data file the
manifest loads, the static assets and the translations, under odoo/addons/<addon>/.
"""

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADDONS = sorted(p.parent.name for p in (ROOT / "addons").glob("*/__manifest__.py"))


@pytest.mark.parametrize("addon", ADDONS)
def test_addon_builds_a_wheel_with_its_files(addon, tmp_path):
    """`pip wheel --no-deps ./addons/<addon>` gives odoo-addon-<addon> holding manifest, data, static and i18n."""
    src = ROOT / "addons" / addon
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "-w", str(tmp_path), str(src)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    manifest = ast.literal_eval((src / "__manifest__.py").read_text())
    assert wheel.name.startswith(f"odoo_addon_{addon}-{manifest['version']}")
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = f"odoo/addons/{addon}/"
    expected = {"__manifest__.py", "__init__.py", *manifest.get("data", [])}
    expected |= {str(p.relative_to(src)) for p in src.glob("static/**/*") if p.is_file()}
    expected |= {str(p.relative_to(src)) for p in src.glob("i18n/*.po*")}
    missing = sorted(f for f in expected if prefix + f not in names)
    assert not missing, f"{wheel.name} lacks {missing}"
    assert any(n.startswith(prefix + "i18n/") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Requires-Dist: odoo==18.0.*" in text
    for dep in manifest["depends"]:
        if (ROOT / "addons" / dep).is_dir():
            assert f"Requires-Dist: odoo-addon-{dep}" in text


def test_sidecar_builds_a_wheel_with_its_console_scripts(tmp_path):
    """`pip install .` on a server gives the `nordic-sidecar` command the systemd units start, and no tests."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("nordic_dunning_sidecar-*.whl")
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    modules = {p.name for p in (ROOT / "sidecar").glob("*.py")}
    assert {f"sidecar/{m}" for m in modules} <= names
    assert not any(n.startswith(("tests/", "addons/", "scripts/")) for n in names)
    entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "nordic-sidecar = sidecar.cli:main" in entry_points
    metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Requires-Dist: odoorpc" in metadata and "Requires-Dist: requests" in metadata
