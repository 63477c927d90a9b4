"""Test the `learning-bridge` console script: database, staff accounts, credentials, demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = str(Path(sys.executable).parent / "learning-bridge")


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Give an environment with its own instance folder, keys and SQLite database."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "KEYS_DIR": str(tmp_path / "keys"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SECRET_KEY": "cli-test-secret-" + "y" * 32,
    }


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script and return its result."""
    return subprocess.run([SCRIPT, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False)


def test_cli_db_upgrade_then_current(cli_env: dict[str, str]) -> None:
    """Migrate an empty database to head and report it as up to date."""
    before = run(cli_env, "db", "current")
    assert before.returncode == 1
    assert "learning-bridge db upgrade" in before.stderr
    upgraded = run(cli_env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Database at revision" in upgraded.stdout
    after = run(cli_env, "db", "current")
    assert after.returncode == 0
    assert "up to date: yes" in after.stdout


def test_cli_users_create_list_disable(cli_env: dict[str, str]) -> None:
    """Create, list and disable a staff account from the command line."""
    assert run(cli_env, "db", "upgrade").returncode == 0
    created = run(cli_env, "users", "create", "mei", "--role", "curator,certification", "--password", "a-long-password")
    assert created.returncode == 0, created.stderr
    assert "certification, curator" in created.stdout
    duplicate = run(cli_env, "users", "create", "mei", "--role", "curator", "--password", "a-long-password")
    assert duplicate.returncode == 1
    assert "already taken" in duplicate.stderr
    bad_role = run(cli_env, "users", "create", "lin", "--role", "wizard", "--password", "a-long-password")
    assert bad_role.returncode == 1
    assert "Unknown role 'wizard'" in bad_role.stderr
    assert run(cli_env, "users", "disable", "mei").returncode == 0
    listed = run(cli_env, "users", "list")
    assert listed.stdout.splitlines() == ["mei\tdisabled\tcertification,curator\t"]


def test_cli_lrs_credentials_create_list_revoke(cli_env: dict[str, str]) -> None:
    """Issue a credential whose secret is shown once, list it without the secret, revoke it."""
    assert run(cli_env, "db", "upgrade").returncode == 0
    created = run(cli_env, "lrs", "credentials", "create", "Agency LMS", "--scopes", "statements/write,state")
    assert created.returncode == 0, created.stderr
    fields = dict(line.split(":", 1) for line in created.stdout.splitlines()[:3])
    key, secret = fields["key"].strip(), fields["secret"].strip()
    listed = run(cli_env, "lrs", "credentials", "list")
    assert f"{key}\tactive\tstate statements/write\tAgency LMS" in listed.stdout
    assert secret not in listed.stdout
    assert run(cli_env, "lrs", "credentials", "revoke", key).returncode == 0
    assert f"{key}\trevoked" in run(cli_env, "lrs", "credentials", "list").stdout
    unknown_scope = run(cli_env, "lrs", "credentials", "create", "X", "--scopes", "everything")
    assert unknown_scope.returncode == 1
    assert "Unknown scope 'everything'" in unknown_scope.stderr


def test_cli_demo_is_idempotent(cli_env: dict[str, str]) -> None:
    """Load the demo data twice without duplicating accounts or failing."""
    assert run(cli_env, "db", "upgrade").returncode == 0
    first = run(cli_env, "demo")
    assert first.returncode == 0, first.stderr
    second = run(cli_env, "demo")
    assert second.returncode == 0, second.stderr
    users = run(cli_env, "users", "list").stdout.splitlines()
    assert [line.split("\t")[0] for line in users] == ["admin", "certifier", "curator"]
    credential_file = Path(cli_env["INSTANCE_PATH"]) / "demo_lrs_credential.txt"
    assert credential_file.stat().st_mode & 0o777 == 0o600


def test_cli_run_refuses_unmigrated_database(cli_env: dict[str, str]) -> None:
    """Refuse to start the server on a database without schema, naming the command to run."""
    result = run(cli_env, "run", "--port", "0")
    assert result.returncode == 1
    assert "learning-bridge db upgrade" in result.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_run_serves_the_product(cli_env: dict[str, str]) -> None:
    """Start the development server on 127.0.0.1 and answer /healthz and the front page."""
    import time

    import requests

    assert run(cli_env, "db", "upgrade").returncode == 0
    port = _free_port()
    server = subprocess.Popen([SCRIPT, "run", "--port", str(port)], env=cli_env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None, "the server exited before it answered"
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.3)
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        front = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert "國際學習橋接平臺" in front.text
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert f"running at http://127.0.0.1:{port}/" in out
