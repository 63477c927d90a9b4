"""Forward accepted statements to another LRS through the outbox (feature C6).

When `LRS_FORWARD_ENDPOINT` is set, a stored-statement hook enqueues every stored batch (filtered
by `LRS_FORWARD_VERBS` and `LRS_FORWARD_ACTIVITIES` when given) in the transaction that stores it,
so a statement is forwarded if and only if it was stored. The handler POSTs the batch to the
target's Statement resource with HTTP Basic credentials. Redelivery after a lost answer is
harmless: statements keep their ids, and an LRS stores a statement id once (Communication 2.1.2);
a 409 for a resent id therefore means the target already has it.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
import requests
from flask import Flask
from sqlalchemy.orm import Session

from lrs.app import get_settings
from lrs.config import ConfigError
from lrs.db import get_db
from lrs.outbox.core import RetryLater, Undeliverable, enqueue
from lrs.storage.hooks import StoredHook

FORWARD_CHANNEL = "lrs.forward"
USER_AGENT = "InternationalLearningBridge-LRS/1.0"
_RETRYABLE = {401, 403, 404, 408, 425, 429}


def _split(value: Any) -> frozenset[str]:
    if not value:
        return frozenset()
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(v).strip() for v in value if str(v).strip())
    return frozenset(part.strip() for part in str(value).replace("\n", ",").split(",") if part.strip())


@dataclass(frozen=True)
class ForwardConfig:
    """Where and what to forward."""

    endpoint: str
    key: str
    secret: str
    verbs: frozenset[str]
    activities: frozenset[str]
    version: str = "1.0.3"

    @classmethod
    def of(cls, app: Flask) -> ForwardConfig | None:
        """Read the forwarding settings, or return None when forwarding is off."""
        endpoint = str(app.config.get("LRS_FORWARD_ENDPOINT") or "").strip().rstrip("/")
        if not endpoint:
            return None
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(f"LRS_FORWARD_ENDPOINT must be an http(s) URL such as https://lrs.example.gov.tw/xapi, got {endpoint!r}.")
        key = str(app.config.get("LRS_FORWARD_KEY") or "")
        secret = str(app.config.get("LRS_FORWARD_SECRET") or "")
        if not key or not secret:
            raise ConfigError("LRS_FORWARD_ENDPOINT is set but LRS_FORWARD_KEY or LRS_FORWARD_SECRET is missing: give the other LRS's credentials.")
        return cls(
            endpoint=endpoint,
            key=key,
            secret=secret,
            verbs=_split(app.config.get("LRS_FORWARD_VERBS")),
            activities=_split(app.config.get("LRS_FORWARD_ACTIVITIES")),
            version=str(app.config.get("LRS_FORWARD_VERSION") or "1.0.3"),
        )

    def wants(self, statement: dict[str, Any]) -> bool:
        """Tell whether a statement passes the verb and activity filters (an empty filter passes all)."""
        if self.verbs and (statement.get("verb") or {}).get("id") not in self.verbs:
            return False
        if self.activities:
            target = statement.get("object") or {}
            if target.get("objectType", "Activity") != "Activity" or target.get("id") not in self.activities:
                return False
        return True


def attachment_metadata(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a statement's attachment objects, those of a SubStatement object included (Data 2.4.11)."""
    found = [item for item in statement.get("attachments") or [] if isinstance(item, dict)]
    target = statement.get("object") or {}
    if isinstance(target, dict) and target.get("objectType") == "SubStatement":
        found += [item for item in target.get("attachments") or [] if isinstance(item, dict)]
    return found


def make_stored_hook(config: ForwardConfig) -> StoredHook:
    """Return the hook that enqueues accepted statements for forwarding, in the storing transaction."""

    def hook(session: Session, statements: Sequence[dict[str, Any]]) -> None:
        chosen = [statement for statement in statements if config.wants(statement)]
        if chosen:
            enqueue(session, FORWARD_CHANNEL, {"statements": chosen})

    return hook


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_target(url: str, allow_private: bool) -> None:
    """Refuse a target that resolves to a loopback or private address unless allowed."""
    parts = urlsplit(url)
    if allow_private or not parts.hostname:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise RetryLater(f"the forwarding target {parts.hostname} cannot be resolved ({err})") from None
    if any(not _is_public(str(info[4][0])) for info in infos):
        raise Undeliverable(
            f"the forwarding target {parts.hostname} is a private or loopback address; set ALLOW_PRIVATE_OUTBOUND=1 to allow it"
        )


class Target:
    """The other LRS's Statement resource, reached within the product's outbound bounds."""

    def __init__(self, app: Flask, config: ForwardConfig) -> None:
        settings = get_settings(app)
        self.app = app
        self.config = config
        self.timeout = settings.outbound_timeout_seconds
        self.max_bytes = settings.outbound_max_bytes
        self.allow_private = settings.allow_private_outbound
        token = base64.b64encode(f"{config.key}:{config.secret}".encode()).decode("ascii")
        self.headers = {
            "Authorization": f"Basic {token}",
            "X-Experience-API-Version": config.version,
            "User-Agent": USER_AGENT,
        }

    def send(self, method: str, url: str, body: Any) -> int:
        """Send statements (with their attachments' data) and return the status; RetryLater if unreachable."""
        check_target(url, self.allow_private)
        content, content_type = self.encode(body)
        try:
            with requests.request(
                method, url, data=content, headers={**self.headers, "Content-Type": content_type},
                timeout=self.timeout, allow_redirects=False, stream=True,
            ) as response:
                # Read a bounded amount only: we need the status, not the answer.
                next(response.iter_content(min(self.max_bytes, 65536)), b"")
                return response.status_code
        except requests.RequestException as err:
            raise RetryLater(f"the forwarding target did not answer: {type(err).__name__}") from None

    def encode(self, body: Any) -> tuple[bytes, str]:
        """Encode statements as JSON, or as multipart/mixed when attachments travel with them (Communication 1.5.2)."""
        json_body = orjson.dumps(body)
        statements = body if isinstance(body, list) else [body]
        wanted = {
            str(item["sha2"]).lower()
            for statement in statements
            for item in attachment_metadata(statement)
            if item.get("sha2") and not item.get("fileUrl")
        }
        if not wanted:
            return json_body, "application/json"
        from lrs.storage.statements import get_attachments
        from lrs.xapi.attachments import build_multipart

        with get_db(self.app).session() as session:
            found = get_attachments(session, wanted)
        if wanted - set(found):
            raise Undeliverable(f"attachment data {sorted(wanted - set(found))[0]} is not stored here, so it cannot be forwarded")
        return build_multipart(json_body, [found[sha2] for sha2 in sorted(found)])

    def deliver(self, statements: list[dict[str, Any]]) -> None:
        """POST the batch; on a refusal of a batch, resend its statements one by one with PUT."""
        status = self.send("POST", f"{self.config.endpoint}/statements", statements)
        if status in (200, 204):
            return
        self._raise_if_transient(status)
        if len(statements) > 1 and status in (400, 409, 413):
            # One bad or already-present statement must not hold back the others.
            for statement in statements:
                self._put_one(statement)
            return
        if status == 409:
            return  # the one statement is already there
        self._refused(status)

    def _put_one(self, statement: dict[str, Any]) -> None:
        statement_id = statement.get("id")
        if not statement_id:
            raise Undeliverable("a forwarded statement has no id")
        url = f"{self.config.endpoint}/statements?statementId={quote(str(statement_id))}"
        status = self.send("PUT", url, statement)
        if status in (200, 204, 409):
            return  # 409: the target already holds a statement with this id (an earlier attempt landed)
        self._raise_if_transient(status)
        self._refused(status, statement_id)

    @staticmethod
    def _raise_if_transient(status: int) -> None:
        if status >= 500 or status in _RETRYABLE:
            raise RetryLater(f"the forwarding target answered {status}")

    @staticmethod
    def _refused(status: int, statement_id: Any = None) -> None:
        which = f"statement {statement_id}" if statement_id else "the batch"
        raise Undeliverable(f"the forwarding target refused {which} with status {status}")


def deliver_forward(app: Flask, payload: dict[str, Any]) -> None:
    """Deliver one forwarding message (the outbox handler of FORWARD_CHANNEL)."""
    config = ForwardConfig.of(app)
    if config is None:
        raise RetryLater("forwarding is not configured any more (LRS_FORWARD_ENDPOINT is unset)")
    statements = payload.get("statements") or []
    if statements:
        Target(app, config).deliver(list(statements))
