"""Race real clients against a live LRS: of writers holding the same ETag exactly one wins (Communication 3.1)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from lrs.db import get_db
from lrs.storage import credentials as creds
from tests.conftest import basic_auth
from tests.lrs.documents.helpers import ACTIVITY_PROFILE_URL, STATE_URL, activity_profile_params, state_params, url
from tests.support import LiveServer, serving

WRITERS = 4


@pytest.fixture
def live(lrs_app: Flask) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """Serve the standalone LRS on 127.0.0.1 and give its URL with full-scope headers."""
    with get_db(lrs_app).session() as session:
        issued = creds.create_credential(session, "racers", ["all"], "http://lb.test")
        headers = {"Authorization": basic_auth(issued.credential.key, issued.secret), "X-Experience-API-Version": "1.0.3"}
    with serving(lrs_app) as server:
        yield server, headers


def _race(count: int, send: Callable[[int], requests.Response]) -> list[requests.Response]:
    barrier = threading.Barrier(count)
    results: list[requests.Response | None] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        results[index] = send(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(result is not None for result in results)
    return [r for r in results if r is not None]


def test_document_put_race_with_same_etag_has_one_winner(live: tuple[LiveServer, dict[str, str]]) -> None:
    """Let exactly one of several PUTs with the same If-Match win; the rest get 412 (Communication 3.1.s4.b5, b9-b10)."""
    server, headers = live
    target = server.url + url(ACTIVITY_PROFILE_URL, activity_profile_params())
    with requests.Session() as http:
        assert http.put(target, json={"round": -1}, headers={**headers, "If-None-Match": "*"}, timeout=30).status_code == 204
        for round_no in range(5):
            etag = http.get(target, headers=headers, timeout=30).headers["ETag"]

            def send(index: int, etag: str = etag, round_no: int = round_no) -> requests.Response:
                body = {"round": round_no, "writer": index}
                return requests.put(target, json=body, headers={**headers, "If-Match": etag}, timeout=30)

            results = _race(WRITERS, send)
            statuses = sorted(r.status_code for r in results)
            assert statuses == [204] + [412] * (WRITERS - 1), statuses
            winner = next(i for i, r in enumerate(results) if r.status_code == 204)
            assert http.get(target, headers=headers, timeout=30).json() == {"round": round_no, "writer": winner}


def test_document_create_race_with_if_none_match_has_one_winner(live: tuple[LiveServer, dict[str, str]]) -> None:
    """Let exactly one of several creating PUTs with If-None-Match "*" win (Communication 3.1.s4.b6, b9)."""
    server, headers = live
    target = server.url + url(ACTIVITY_PROFILE_URL, activity_profile_params())

    def send(index: int) -> requests.Response:
        return requests.put(target, json={"writer": index}, headers={**headers, "If-None-Match": "*"}, timeout=30)

    results = _race(WRITERS, send)
    assert sorted(r.status_code for r in results) == [204] + [412] * (WRITERS - 1)


def test_document_post_race_merges_every_writer(live: tuple[LiveServer, dict[str, str]]) -> None:
    """Lose no property when several clients POST-merge at once (Communication 2.2.s7, 3.1.s1)."""
    server, headers = live
    target = server.url + url(STATE_URL, state_params())
    requests.post(target, json={"start": True}, headers=headers, timeout=30)

    def send(index: int) -> requests.Response:
        return requests.post(target, json={f"k{index}": index}, headers=headers, timeout=30)

    results = _race(WRITERS, send)
    assert [r.status_code for r in results] == [204] * WRITERS
    stored: dict[str, Any] = requests.get(target, headers=headers, timeout=30).json()
    assert stored == {"start": True, **{f"k{i}": i for i in range(WRITERS)}}


def test_document_post_race_with_same_etag_has_one_winner(live: tuple[LiveServer, dict[str, str]]) -> None:
    """Let exactly one of several POSTs with the same If-Match merge (Communication 3.1.s4.b7, b11)."""
    server, headers = live
    target = server.url + url(STATE_URL, state_params())
    requests.post(target, json={"start": True}, headers=headers, timeout=30)
    etag = requests.get(target, headers=headers, timeout=30).headers["ETag"]

    def send(index: int) -> requests.Response:
        return requests.post(target, data=json.dumps({f"k{index}": index}),
                             headers={**headers, "If-Match": etag, "Content-Type": "application/json"}, timeout=30)

    results = _race(WRITERS, send)
    assert sorted(r.status_code for r in results) == [204] + [412] * (WRITERS - 1)
    assert len(requests.get(target, headers=headers, timeout=30).json()) == 2
