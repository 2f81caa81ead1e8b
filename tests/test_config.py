"""Settings: command line over environment over config file over defaults; clear errors."""

import pytest

from sidecar.config import ConfigError, Settings, load, parse_duration


def test_precedence(tmp_path):
    """An environment variable beats the file, the command line beats both, the default fills the rest."""
    ini = tmp_path / "sidecar.ini"
    ini.write_text("[sidecar]\nodoo_db = filedb\nbatch_size = 7\nchanges_page = 300\nodoo_login = bot\n")
    settings = load(
        str(ini), environ={"ODOO_DB": "envdb", "NORDIC_SIDECAR_BATCH_SIZE": "9"}, overrides={"batch_size": 11}
    )
    assert (settings.odoo_db, settings.batch_size, settings.changes_page, settings.odoo_login) == (
        "envdb",
        11,
        300,
        "bot",
    )
    assert settings.odoo_port == 8069 and settings.agency_retries == 3


def test_toml_and_url(tmp_path):
    """A TOML file with a [sidecar] table; odoo_url sets protocol, host and port."""
    toml = tmp_path / "sidecar.toml"
    toml.write_text('[sidecar]\nodoo_url = "https://erp.example.com"\ninterval = "1h30m"\nagencies = "A, B"\n')
    settings = load(str(toml), environ={})
    assert (settings.odoo_protocol, settings.odoo_host, settings.odoo_port) == ("jsonrpc+ssl", "erp.example.com", 443)
    assert settings.interval_seconds == 5400
    assert settings.agency_codes == ["A", "B"]


def test_config_file_from_environment(tmp_path):
    """NORDIC_SIDECAR_CONFIG names the file when --config is not given."""
    ini = tmp_path / "c.ini"
    ini.write_text("[sidecar]\nworker = from-file\n")
    assert load(environ={"NORDIC_SIDECAR_CONFIG": str(ini)}).worker == "from-file"


@pytest.mark.parametrize(
    ("content", "environ", "message"),
    [
        ("[sidecar]\nbatch_size = many\n", {}, "batch_size must be a number"),
        ("[sidecar]\nodoo_dbb = x\n", {}, "unknown setting"),
        ("[other]\n", {}, r"no \[sidecar\] section"),
        ("[sidecar]\n", {"NORDIC_SIDECAR_LOG_FORMAT": "xml"}, "log_format"),
        ("[sidecar]\n", {"NORDIC_SIDECAR_INTERVAL": "soon"}, "invalid duration"),
        ("[sidecar]\n", {"NORDIC_SIDECAR_CHANGES_PAGE": "0"}, "changes_page"),
        ("[sidecar]\n", {"ODOO_URL": "ftp://x"}, "odoo_url"),
    ],
)
def test_invalid_settings(tmp_path, content, environ, message):
    """Invalid values and unknown keys are configuration errors naming the setting."""
    ini = tmp_path / "bad.ini"
    ini.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load(str(ini), environ=environ)


def test_missing_required_and_file(tmp_path):
    """The Odoo credentials are required before connecting; a missing file is an error."""
    with pytest.raises(ConfigError, match="ODOO_DB, ODOO_LOGIN, ODOO_API_KEY"):
        Settings().require_odoo()
    with pytest.raises(ConfigError, match="does not exist"):
        load(str(tmp_path / "nope.ini"), environ={})


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("30", 30), ("0.5", 0.5)])
def test_parse_duration(text, seconds):
    """Durations as the scheduler options are written."""
    assert parse_duration(text) == seconds
