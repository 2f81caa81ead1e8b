"""Find or obtain the Odoo 18.0 source tree the project runs on; print its path.

Used by scripts/lib.sh before any virtualenv exists, so it needs only the standard
library and ``git``. The order:

1. ``ODOO_PATH``, when it holds an Odoo 18 tree (``odoo-bin``, ``odoo/release.py`` of
   18.0 and ``requirements.txt``), wins; without ``ODOO_PATH``, ``/opt/odoo`` is tried.
2. Otherwise the tree in the cache folder (``$NORDIC_CACHE/odoo-18.0``) is used when it is
   complete and came from the requested source.
3. Otherwise it is obtained into the cache from ``ODOO_SOURCE``, or by default from the
   URL and ref pinned in ``requirements/odoo.txt`` (a shallow fetch of one commit).
   ``ODOO_SOURCE`` may be a git URL, a local git directory (bare or not) or a source
   tarball (a path or an http(s) URL, Odoo's nightly ``odoo_18.0.latest.tar.gz`` format);
   ``ODOO_REF`` names the commit, branch or tag to take from a git source (default: the
   pinned ref for the pinned URL, the source's HEAD otherwise).

A failure says what was tried and what to set. The tree is built in a temporary folder
and renamed into place, so an interrupted download never leaves half a tree behind.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN_FILE = ROOT / "requirements" / "odoo.txt"
MARKER = ".nordic-odoo-source.json"


class SourceError(Exception):
    """The Odoo source could not be found or obtained; the message says what to do."""


def read_pin(path=PIN_FILE):
    """``url`` and ``ref`` (a commit, or a branch or tag) from requirements/odoo.txt."""
    pin = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            pin[key] = value
    missing = {"url", "ref"} - set(pin)
    if missing:
        raise SourceError(f"{path} lacks {', '.join(sorted(missing))}")
    return pin


def odoo_tree_problem(path):
    """Why PATH is not an Odoo 18.0 source tree, or None when it is one."""
    path = Path(path)
    for name in ("odoo-bin", "requirements.txt", "odoo/release.py"):
        if not (path / name).is_file():
            return f"{path} has no {name}"
    release = (path / "odoo" / "release.py").read_text(encoding="utf-8", errors="replace")
    if "version_info = (18, 0," not in release.replace("version_info=(", "version_info = ("):
        return f"{path} is not Odoo 18.0 (odoo/release.py)"
    return None


def is_tarball(source):
    return source.endswith((".tar.gz", ".tgz", ".tar"))


def is_local_git(source):
    path = Path(source)
    return path.is_dir() and ((path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir()))


def git(*args, cwd=None):
    res = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if res.returncode:
        raise SourceError(f"git {' '.join(args)} failed: {res.stderr.strip() or res.stdout.strip()}")
    return res.stdout.strip()


def fetch_git(source, ref, dest):
    """A shallow checkout of REF (commit, branch or tag; HEAD when empty) of SOURCE into DEST."""
    url = Path(source).resolve().as_uri() if is_local_git(source) else source
    dest.mkdir(parents=True)
    git("init", "-q", str(dest))
    git("fetch", "-q", "--depth", "1", url, ref or "HEAD", cwd=dest)
    git("-c", "advice.detachedHead=false", "checkout", "-q", "FETCH_HEAD", cwd=dest)
    commit = git("rev-parse", "HEAD", cwd=dest)
    shutil.rmtree(dest / ".git")  # the tree is read-only input; its history is the source's
    return commit


def fetch_tarball(source, dest):
    """Unpack a source tarball (path or URL) into DEST, dropping its one top-level folder."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(source)
        if source.startswith(("http://", "https://")):
            archive = Path(tmp) / "odoo.tar.gz"
            with urllib.request.urlopen(source, timeout=60) as resp, open(archive, "wb") as out:
                shutil.copyfileobj(resp, out)
        elif not archive.is_file():
            raise SourceError(f"{source}: no such file")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(archive) as tar:
            # The "data" filter refuses absolute paths, links out of the tree and device files.
            tar.extractall(unpacked, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        tops = [p for p in unpacked.iterdir() if p.is_dir()]
        top = tops[0] if len(tops) == 1 and not (unpacked / "odoo-bin").exists() else unpacked
        shutil.move(str(top), str(dest))
    return None


def obtain(cache, source, ref):
    """The path of an Odoo 18 tree in CACHE obtained from SOURCE at REF (reused when there)."""
    dest = Path(cache) / "odoo-18.0"
    wanted = {"source": source, "ref": ref}
    marker = dest / MARKER
    if marker.is_file() and not odoo_tree_problem(dest):
        recorded = json.loads(marker.read_text())
        if recorded.get("source") == source and recorded.get("ref") == ref:
            return dest
    Path(cache).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="odoo-18.0.", dir=cache))
    try:
        tree = tmp / "tree"
        if is_tarball(source):
            commit = fetch_tarball(source, tree)
        else:
            commit = fetch_git(source, ref, tree)
        problem = odoo_tree_problem(tree)
        if problem:
            raise SourceError(f"{source} does not hold Odoo 18.0: {problem.replace(str(tree), 'the tree')}")
        (tree / MARKER).write_text(json.dumps({**wanted, "commit": commit}))
        old = Path(cache) / f".odoo-18.0.old.{os.getpid()}"
        if dest.exists():
            dest.rename(old)
        tree.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def resolve(env):
    """The Odoo tree to use for ENV (a mapping like os.environ), obtaining it when needed."""
    tried = []
    explicit = env.get("ODOO_PATH")
    for candidate in [explicit] if explicit else ["/opt/odoo"]:
        problem = odoo_tree_problem(candidate)
        if not problem:
            return Path(candidate)
        tried.append(problem)
    cache = env.get("NORDIC_CACHE") or str(Path.home() / ".cache" / "nordic_dunning")
    source = env.get("ODOO_SOURCE")
    dest = Path(cache) / "odoo-18.0"
    if not source and (dest / MARKER).is_file() and not odoo_tree_problem(dest):
        return dest  # obtained earlier (from whatever source): no network needed
    if source:
        ref = env.get("ODOO_REF", "")
    else:
        pin = read_pin()
        source, ref = pin["url"], env.get("ODOO_REF", pin["ref"])
    try:
        return obtain(cache, source, ref)
    except (SourceError, OSError, tarfile.TarError) as err:
        tried.append(f"obtaining it from {source}{' at ' + ref if ref else ''}: {err}")
        raise SourceError(
            "No Odoo 18.0 source tree could be found or obtained.\nTried:\n  - "
            + "\n  - ".join(tried)
            + "\nSet ODOO_PATH to an Odoo 18.0 source tree (odoo-bin, odoo/, requirements.txt), or ODOO_SOURCE to a"
            " git URL, a local git directory or an Odoo 18.0 source tarball (ODOO_REF picks a commit or branch)."
        ) from None


def main():
    try:
        path = resolve(os.environ)
    except SourceError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
