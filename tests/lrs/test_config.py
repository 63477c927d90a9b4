"""Test that configuration comes from the environment with safe defaults and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lrs import config
from lrs.config import ConfigError, load_settings, prepare_instance


def test_settings_defaults_are_embedded(tmp_path: Path) -> None:
    """Use SQLite under the instance folder, no Redis and no remote LRS when nothing is set."""
    settings = load_settings({"INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'learning_bridge.db'}"
    assert settings.redis_url is None
    assert settings.lrs_endpoint is None
    assert settings.allow_private_outbound is False
    assert settings.demo_mode is False
    assert settings.public_base_url == "http://127.0.0.1:8000"


def test_settings_postgres_url_uses_psycopg3() -> None:
    """Accept postgres:// and postgresql:// and use the psycopg 3 driver."""
    for given in ("postgres://u@h:5432/d", "postgresql://u@h:5432/d", "postgresql+psycopg2://u@h:5432/d"):
        assert load_settings({"DATABASE_URL": given}).database_url == "postgresql+psycopg://u@h:5432/d"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL is invalid"),
        ("PORT", "eighty", "PORT is invalid: expected a whole number"),
        ("PORT", "70000", "from 1 to 65535"),
        ("ALLOW_PRIVATE_OUTBOUND", "maybe", "ALLOW_PRIVATE_OUTBOUND is invalid"),
        ("PUBLIC_BASE_URL", "lb.example.gov.tw", "expected an http(s) URL"),
        ("REDIS_URL", "http://cache:6379", "expected redis://"),
        ("SECRET_KEY", "short", "at least 16"),
        ("OUTBOUND_TIMEOUT_SECONDS", "0", "above 0"),
    ],
)
def test_settings_invalid_value_names_the_variable(name: str, value: str, fragment: str) -> None:
    """Stop with one line naming the variable and what is expected."""
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_settings_remote_lrs_needs_credentials() -> None:
    """Refuse LRS_ENDPOINT without LRS_KEY and LRS_SECRET."""
    with pytest.raises(ConfigError, match="LRS_KEY or LRS_SECRET"):
        load_settings({"LRS_ENDPOINT": "https://lrs.example.org/xapi"})


def test_settings_keys_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """Refuse a KEYS_DIR that is a file."""
    not_a_folder = tmp_path / "keys"
    not_a_folder.write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        load_settings({"KEYS_DIR": str(not_a_folder)})


def test_prepare_instance_generates_secret_once(tmp_path: Path) -> None:
    """Generate SECRET_KEY once, owner-readable only, and reuse it on the next start."""
    settings = load_settings({"INSTANCE_PATH": str(tmp_path / "inst"), "KEYS_DIR": str(tmp_path / "keys")})
    first = prepare_instance(settings)
    second = prepare_instance(settings)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "inst" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_prepare_instance_uncreatable_keys_dir_is_refused(tmp_path: Path) -> None:
    """Stop with a clear line when KEYS_DIR cannot be created, and create no instance files."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    settings = load_settings({"INSTANCE_PATH": str(tmp_path / "inst"), "KEYS_DIR": str(blocker / "keys")})
    with pytest.raises(ConfigError, match=r"KEYS_DIR .* cannot be created"):
        prepare_instance(settings)
    assert not (tmp_path / "inst" / "secret_key").exists()


def test_cli_invalid_configuration_prints_one_line(tmp_path: Path) -> None:
    """Make the console script exit 2 with one 'Error:' line instead of a traceback."""
    script = Path(sys.executable).parent / "learning-bridge"
    result = subprocess.run(
        [str(script), "db", "current"],
        env={"PORT": "not-a-port", "INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: PORT is invalid: expected a whole number, got 'not-a-port'."


def test_area_settings_reach_app_config_parsed(tmp_path: Path) -> None:
    """Parse area settings from the environment into app.config under their own names."""
    settings = load_settings({"OUTBOX_IN_PROCESS": "yes", "CATALOG_IMPORT_MAX_ROWS": "12", "INSTANCE_PATH": str(tmp_path)})
    assert settings.extra["OUTBOX_IN_PROCESS"] is True
    assert settings.extra["CATALOG_IMPORT_MAX_ROWS"] == 12


def test_area_settings_invalid_value_names_the_variable() -> None:
    """Stop with one line naming an invalid area setting."""
    with pytest.raises(ConfigError, match="OUTBOX_BATCH_SIZE is invalid: expected a whole number"):
        load_settings({"OUTBOX_BATCH_SIZE": "many"})


def test_forwarding_needs_credentials() -> None:
    """Refuse LRS_FORWARD_ENDPOINT without the other LRS's key and secret."""
    with pytest.raises(ConfigError, match="LRS_FORWARD_KEY or LRS_FORWARD_SECRET"):
        load_settings({"LRS_FORWARD_ENDPOINT": "https://lrs.agency.gov.tw/xapi"})


def test_write_once_falls_back_where_hard_links_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key folder on a file system without hard links still gets its key, owner-only, and keeps it."""
    import stat

    def no_links(*_args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "keys" / "a.key"
    config.write_once(target, b"first")
    config.write_once(target, b"second")  # never replaces a key
    assert target.read_bytes() == b"first" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["a.key"]  # no temporary file left behind

