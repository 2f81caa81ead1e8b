"""The systemd units in deploy/systemd/ run the sidecar the way the docs say, and systemd accepts them.

Each unit's ExecStart must be a command the sidecar's own argument parser accepts, its exit-code policy must
match the codes the CLI returns, the example environment file may only name settings the sidecar knows
(a misspelt key would be silently ignored on a server), and ``systemd-analyze verify`` must accept the units
as written, with only the install paths (/opt/nordic-sidecar, /etc/nordic-sidecar) pointed at stand-ins.
"""

import configparser
import shlex
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from sidecar import cli, config, sync

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
SERVICES = ("nordic-sidecar.service", "nordic-sidecar-daemon.service")
EXECUTABLE = "/opt/nordic-sidecar/venv/bin/nordic-sidecar"
ENV_FILE = "/etc/nordic-sidecar/sidecar.env"


def unit(name):
    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",))
    parser.optionxform = str
    parser.read(UNITS / name, encoding="utf-8")
    return parser


@pytest.mark.parametrize("name", SERVICES)
def test_service_runs_a_command_the_sidecar_accepts(name):
    """ExecStart is the installed console script with a sub-command and options the CLI parser accepts."""
    service = unit(name)["Service"]
    executable, *argv = shlex.split(service["ExecStart"])
    assert executable == EXECUTABLE
    args = cli._parser().parse_args(argv)
    assert args.command in ("sync", "run")
    assert service["EnvironmentFile"] == ENV_FILE
    assert service["User"] == "nordic-sidecar"


def test_exit_code_policy_matches_the_cli():
    """Partial failure (1) is retried by the next pass; configuration (2) and refused environment (3) stay failures."""
    assert (sync.EXIT_PARTIAL, sync.EXIT_CONFIG, sync.EXIT_REFUSED) == (1, 2, 3)
    oneshot = unit("nordic-sidecar.service")["Service"]
    assert oneshot["Type"] == "oneshot"
    assert oneshot["SuccessExitStatus"].split() == [str(sync.EXIT_PARTIAL)]
    daemon = unit("nordic-sidecar-daemon.service")["Service"]
    assert daemon["Restart"] == "on-failure"
    assert sorted(daemon["RestartPreventExitStatus"].split()) == [str(sync.EXIT_CONFIG), str(sync.EXIT_REFUSED)]
    timer = unit("nordic-sidecar.timer")["Timer"]
    assert timer["Unit"] == "nordic-sidecar.service"
    # systemd spells minutes "min"; the sidecar's own period (the daemon unit) is the same 15 minutes.
    systemd_span = timer["OnUnitInactiveSec"].replace("min", "m")
    assert config.parse_duration(systemd_span) == config.parse_duration(config.Settings.interval)


def test_example_environment_names_only_known_settings():
    """Every KEY in sidecar.env.example is a setting of the sidecar; the example loads and names an Odoo login."""
    known = {config.Settings.env_var(f.name) for f in fields(config.Settings)}
    values = {}
    for line in (UNITS / "sidecar.env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and key == key.strip() and key.isupper(), f"not KEY=value: {line!r}"
            values[key] = value
    unknown = sorted(set(values) - known)
    assert not unknown, f"unknown settings in sidecar.env.example: {unknown}"
    settings = config.load(environ=values)
    settings.require_odoo()
    assert settings.odoo_protocol == "jsonrpc+ssl"


def test_systemd_accepts_the_units(tmp_path):
    """`systemd-analyze verify` passes on the units, with the executable and environment file as stand-ins."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is part of systemd, which scripts/test expects on a Debian machine"
    stand_in = tmp_path / "nordic-sidecar"
    stand_in.write_text(f"#!{sys.executable}\n")
    stand_in.chmod(0o755)
    env_file = tmp_path / "sidecar.env"
    env_file.write_text((UNITS / "sidecar.env.example").read_text())
    for path in UNITS.glob("nordic-sidecar*"):
        text = path.read_text().replace(EXECUTABLE, str(stand_in)).replace(ENV_FILE, str(env_file))
        (tmp_path / path.name).write_text(text)
    names = sorted(str(p) for p in tmp_path.glob("nordic-sidecar.*")) + [str(tmp_path / SERVICES[1])]
    result = subprocess.run(
        [analyze, "verify", "--man=no", *names],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    problems = [
        line for line in (result.stdout + result.stderr).splitlines() if "nordic-sidecar" in line and line.strip()
    ]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr
