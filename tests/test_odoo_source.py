"""The scripts find or obtain Odoo 18.0 themselves (scripts/odoo_source.py), with no network.

Each test builds a small fake Odoo 18 tree (odoo-bin, odoo/release.py, requirements.txt) in a
local git repository or a tarball, and runs the script as scripts/lib.sh does.
"""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "odoo_source.py"
RELEASE_18 = "version_info = (18, 0, 0, FINAL, 0, '')\n"


def make_tree(path, release=RELEASE_18):
    (path / "odoo").mkdir(parents=True)
    (path / "odoo" / "release.py").write_text("FINAL = 'final'\n" + release)
    (path / "odoo-bin").write_text("#!/usr/bin/env python3\n")
    (path / "requirements.txt").write_text("lxml\n")
    return path


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_repo(path, release=RELEASE_18):
    make_tree(path, release)
    git("init", "-q", "-b", "18.0", cwd=path)
    git("add", "-A", cwd=path)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "odoo", cwd=path)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True, text=True).stdout


def run(tmp_path, **env):
    base = {k: v for k, v in os.environ.items() if k not in ("ODOO_PATH", "ODOO_SOURCE", "ODOO_REF")}
    # An explicit ODOO_PATH that holds nothing, so a machine's own /opt/odoo never wins.
    base.update(ODOO_PATH=str(tmp_path / "no-odoo"), NORDIC_CACHE=str(tmp_path / "cache"), HOME=str(tmp_path))
    base.update(env)
    return subprocess.run([sys.executable, str(SCRIPT)], env=base, capture_output=True, text=True)


def test_local_git_directory_is_cloned_into_the_cache(tmp_path):
    """ODOO_SOURCE naming a local git repository gives a checkout of its HEAD in the cache, reused next time."""
    commit = make_repo(tmp_path / "mirror").strip()
    res = run(tmp_path, ODOO_SOURCE=str(tmp_path / "mirror"))
    assert res.returncode == 0, res.stderr
    tree = Path(res.stdout.strip())
    assert tree == tmp_path / "cache" / "odoo-18.0"
    assert (tree / "odoo-bin").is_file() and not (tree / ".git").exists()
    assert json.loads((tree / ".nordic-odoo-source.json").read_text())["commit"] == commit
    # Without ODOO_SOURCE (as CI runs), the tree obtained earlier is used: no fetch is needed.
    (tmp_path / "mirror" / "odoo-bin").unlink()
    again = run(tmp_path)
    assert again.returncode == 0 and Path(again.stdout.strip()) == tree


def test_git_url_and_ref(tmp_path):
    """A file:// git URL with ODOO_REF fetches exactly that commit, not the branch tip."""
    first = make_repo(tmp_path / "mirror").strip()
    (tmp_path / "mirror" / "requirements.txt").write_text("lxml\npytz\n")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "tip", cwd=tmp_path / "mirror")
    res = run(tmp_path, ODOO_SOURCE=(tmp_path / "mirror").as_uri(), ODOO_REF=first)
    assert res.returncode == 0, res.stderr
    assert (Path(res.stdout.strip()) / "requirements.txt").read_text() == "lxml\n"


def test_tarball_in_nightly_format(tmp_path):
    """A source tarball with one top-level folder (Odoo's nightly odoo_18.0.latest.tar.gz) is unpacked."""
    make_tree(tmp_path / "src" / "odoo-18.0.post20250506")
    archive = tmp_path / "odoo_18.0.latest.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / "odoo-18.0.post20250506", arcname="odoo-18.0.post20250506")
    res = run(tmp_path, ODOO_SOURCE=str(archive))
    assert res.returncode == 0, res.stderr
    assert (Path(res.stdout.strip()) / "odoo" / "release.py").is_file()


def test_odoo_path_with_a_tree_wins(tmp_path):
    """An ODOO_PATH that holds Odoo 18 is used as it is; ODOO_SOURCE is then not even looked at."""
    tree = make_tree(tmp_path / "odoo")
    res = run(tmp_path, ODOO_PATH=str(tree), ODOO_SOURCE=str(tmp_path / "nowhere"))
    assert res.returncode == 0 and Path(res.stdout.strip()) == tree


def test_wrong_version_is_refused_and_nothing_is_left(tmp_path):
    """A source holding another Odoo version fails with what was tried, and leaves no half tree in the cache."""
    make_repo(tmp_path / "mirror", release="version_info = (17, 0, 0, FINAL, 0, '')\n")
    res = run(tmp_path, ODOO_SOURCE=str(tmp_path / "mirror"))
    assert res.returncode == 2
    assert "not Odoo 18.0" in res.stderr and "ODOO_SOURCE" in res.stderr and "ODOO_PATH" in res.stderr
    assert not (tmp_path / "cache" / "odoo-18.0").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []


def test_unreachable_source_says_what_to_set(tmp_path):
    """An unreachable source names every place tried and the variables to set."""
    res = run(tmp_path, ODOO_PATH=str(tmp_path / "empty"), ODOO_SOURCE=str(tmp_path / "missing.tar.gz"))
    assert res.returncode == 2
    assert f"{tmp_path / 'empty'} has no odoo-bin" in res.stderr
    assert "missing.tar.gz" in res.stderr and "Set ODOO_PATH" in res.stderr


def test_pin_file_names_the_official_repository():
    """By default Odoo comes from the URL and ref pinned in requirements/odoo.txt."""
    out = subprocess.run(
        [sys.executable, "-c", "import json, odoo_source; print(json.dumps(odoo_source.read_pin()))"],
        cwd=ROOT / "scripts",
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pin = json.loads(out)
    assert pin["url"] == "https://github.com/odoo/odoo.git" and pin["ref"]
