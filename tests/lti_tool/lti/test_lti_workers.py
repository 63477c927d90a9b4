"""Test launches across two live gunicorn workers, with launch state in the database and in Redis."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import lti_tool
from lrs.db import get_db
from lti_tool.lti.bench import free_port, gunicorn
from tests.conftest import SECRET, app_config
from tests.lti_tool.lti.conftest import TestPlatform


def _launch_many(base: str, platform: TestPlatform, count: int) -> list[tuple[str, str, str]]:
    """Run complete login + launch round trips like a browser; return (state, id_token, launch token) of each."""
    done = []
    for _ in range(count):
        browser = requests.Session()
        login = browser.get(base + "/lti/login", params=platform.login_params(target_link_uri=base + "/lti/launch"),
                            allow_redirects=False, timeout=10)
        assert login.status_code == 200, login.text
        assert "lti1p3-probe" in login.cookies
        config = re.search(r'id="lti-login-config">(.*?)</script>', login.text, re.S)
        assert config
        query = parse_qs(urlsplit(json.loads(config.group(1))["redirect"]).query)
        token = platform.sign({**platform.claims(query["nonce"][0]),
                               "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": base + "/lti/launch"})
        launch = browser.post(base + "/lti/launch", data={"id_token": token, "state": query["state"][0]},
                              allow_redirects=False, timeout=10)
        assert launch.status_code == 303, launch.text
        done.append((query["state"][0], token, parse_qs(urlsplit(launch.headers["Location"]).query)["lt"][0]))
    return done


@pytest.mark.slow
@pytest.mark.parametrize("state_store", ["database", "redis"])
def test_launch_post_across_two_gunicorn_workers(database_url: str, tmp_path: Path, platform: TestPlatform,
                                                 state_store: str, request: pytest.FixtureRequest) -> None:
    """Accept launches whose login and launch may hit different workers, refuse replays, serve pages by token."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"DATABASE_URL": database_url, "KEYS_DIR": str(tmp_path / "keys"), "INSTANCE_PATH": str(tmp_path / "instance"),
           "SECRET_KEY": SECRET, "PUBLIC_BASE_URL": base, "ALLOW_PRIVATE_OUTBOUND": "1", "DEMO_MODE": "0", "REDIS_URL": ""}
    if state_store == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
        env["REDIS_KEY_PREFIX"] = request.getfixturevalue("redis_prefix")
    setup = lti_tool.create_app(app_config(database_url, tmp_path, PUBLIC_BASE_URL=base))
    platform.register(setup)
    get_db(setup).dispose()
    with gunicorn(env, workers=2, port=port) as served:
        launches = _launch_many(served, platform, 8)
        state, token, launch_token = launches[0]
        replay = requests.post(served + "/lti/launch", data={"id_token": token, "state": state},
                               headers={"Accept": "application/json"}, allow_redirects=False, timeout=10)
        assert replay.status_code == 400
        for _, _, launch_token in launches:
            page = requests.get(served + "/lti/launched", params={"lt": launch_token, "lang": "en"}, timeout=10)
            assert page.status_code == 200 and "Lin Hsiao-ming" in page.text
