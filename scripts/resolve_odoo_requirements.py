"""Print Odoo's requirements.txt resolved as for Python 3.12.

Odoo 18 pins, for Python < 3.12, old source packages that no longer build; the
versions it pins for 3.12 ship wheels that work on 3.11 too. python-ldap and the
Windows-only packages are left out: nothing here uses them.
"""

import sys

from packaging.requirements import Requirement

ENV = {"python_version": "3.12", "python_full_version": "3.12.0", "sys_platform": "linux"}
SKIP = {"python-ldap", "pypiwin32", "rl-renderpm"}

for raw in open(sys.argv[1], encoding="utf-8"):
    line = raw.split("#")[0].strip()
    if not line:
        continue
    req = Requirement(line)
    if req.name.lower() in SKIP:
        continue
    if req.marker is None or req.marker.evaluate(ENV):
        print(f"{req.name}{req.specifier}")
