"""Keep the tool's RS256 signing keys in KEYS_DIR: generation, public JWKS, rotation with overlap.

Files: `lti-keyring.json` lists each key's `kid` (its RFC 7638 thumbprint), when it was made and
from when it signs; `lti-<kid>.pem` holds each private key, readable by the owner only. Rotation
(LTI Security Framework 1.0 §6.3, key rotation) publishes a new key in the JWKS at once, signs
with it only after an overlap (so platforms that cache our JWKS have seen it), and drops the
retired key from the JWKS and the disk once the retention period after its retirement is over.
Several workers and nodes share the folder: changes take a file lock and replace files atomically,
and readers reload when the keyring file changes.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, current_app

from lrs.app import get_settings
from lrs.errors import ServiceUnavailable

EXTENSION_KEY = "lb.lti_keys"
RING_FILE = "lti-keyring.json"
LOCK_FILE = ".lti-keyring.lock"
KEY_BITS = 2048
DEFAULT_OVERLAP = dt.timedelta(hours=24)
DEFAULT_RETENTION = dt.timedelta(hours=72)


class KeyringError(ServiceUnavailable):
    """The key folder is unusable (unreadable file, missing private key)."""


@dataclass(frozen=True)
class KeyInfo:
    """One key pair's public facts."""

    kid: str
    created_at: dt.datetime
    signs_from: dt.datetime

    def to_json(self) -> dict[str, str]:
        """Return the keyring entry."""
        return {"kid": self.kid, "created_at": self.created_at.isoformat(), "signs_from": self.signs_from.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> KeyInfo:
        """Read a keyring entry."""
        return cls(data["kid"], dt.datetime.fromisoformat(data["created_at"]),
                   dt.datetime.fromisoformat(data["signs_from"]))


@dataclass(frozen=True)
class SigningKey:
    """The key to sign with now: its `kid` and private PEM (never logged, never served)."""

    kid: str
    private_pem: str

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(public_key: rsa.RSAPublicKey, kid: str | None = None) -> dict[str, str]:
    """Return the public JWK (RFC 7517) of an RSA key, for RS256 signatures."""
    numbers = public_key.public_numbers()
    jwk = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
    return {**jwk, "kid": kid or thumbprint(jwk), "alg": "RS256", "use": "sig"}


def thumbprint(jwk: dict[str, str]) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of an RSA JWK."""
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class KeyRing:
    """The tool's key pairs in one folder."""

    def __init__(self, folder: Path, overlap: dt.timedelta = DEFAULT_OVERLAP,
                 retention: dt.timedelta = DEFAULT_RETENTION) -> None:
        self.folder = folder
        self.overlap = overlap
        self.retention = retention
        self._loaded: tuple[int, list[KeyInfo]] | None = None
        self._private: dict[str, rsa.RSAPrivateKey] = {}
        self._mutex = threading.Lock()

    # --- reading -------------------------------------------------------------------------------

    def entries(self) -> list[KeyInfo]:
        """Return every key on the ring, oldest first, reloading when the ring file changed."""
        path = self.folder / RING_FILE
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        with self._mutex:
            if self._loaded is None or self._loaded[0] != stamp:
                try:
                    entries = json.loads(path.read_text())["keys"]
                    infos = sorted((KeyInfo.from_json(e) for e in entries), key=lambda k: k.signs_from)
                except (OSError, ValueError, KeyError, TypeError) as err:
                    raise KeyringError(f"{path} is unreadable ({err}); restore it from a backup or remove it with its keys.") from None
                self._loaded = (stamp, infos)
            return list(self._loaded[1])

    def _signing_info(self, infos: list[KeyInfo], now: dt.datetime) -> KeyInfo | None:
        active = [info for info in infos if info.signs_from <= now]
        return active[-1] if active else (infos[0] if infos else None)

    def published(self, now: dt.datetime | None = None) -> list[KeyInfo]:
        """Return the keys the JWKS shows: the signing key, newer ones, and recently retired ones."""
        now = now or dt.datetime.now(dt.UTC)
        infos = self.entries()
        current = self._signing_info(infos, now)
        if current is None:
            return []
        shown = []
        for info in infos:
            if info.signs_from >= current.signs_from:
                shown.append(info)
                continue
            successor = next(k for k in infos if k.signs_from > info.signs_from)
            if now - successor.signs_from < self.retention:
                shown.append(info)
        return shown

    def _private_key(self, kid: str) -> rsa.RSAPrivateKey:
        key = self._private.get(kid)
        if key is None:
            path = self.folder / f"lti-{kid}.pem"
            try:
                loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except (OSError, ValueError) as err:
                raise KeyringError(f"The private key {path.name} cannot be read ({type(err).__name__}): "
                                "restore KEYS_DIR or run `learning-bridge keys rotate`.") from None
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise KeyringError(f"{path.name} is not an RSA key.")
            key = self._private[kid] = loaded
        return key

    def jwks(self, now: dt.datetime | None = None) -> dict[str, list[dict[str, str]]]:
        """Return the public JWKS (RFC 7517 §5): public parts only."""
        return {"keys": [public_jwk(self._private_key(info.kid).public_key(), info.kid)
                         for info in self.published(now)]}

    def signing_key(self, now: dt.datetime | None = None) -> SigningKey:
        """Return the key to sign with now."""
        info = self._signing_info(self.entries(), now or dt.datetime.now(dt.UTC))
        if info is None:
            raise KeyringError(f"No signing key in {self.folder}: restart the app or run `learning-bridge keys rotate`.")
        pem = self._private_key(info.kid).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return SigningKey(info.kid, pem.decode())

    def public_pem(self, kid: str) -> str:
        """Return the public PEM of a key on the ring."""
        return self._private_key(kid).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    # --- changing ------------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _write_ring(self, infos: list[KeyInfo]) -> None:
        path = self.folder / RING_FILE
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"keys": [info.to_json() for info in infos]}, handle, indent=2)
        os.replace(tmp, path)

    def _new_key(self, now: dt.datetime, signs_from: dt.datetime) -> KeyInfo:
        private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        kid = thumbprint(public_jwk(private.public_key(), "x"))
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        fd = os.open(self.folder / f"lti-{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        self._private[kid] = private
        return KeyInfo(kid, now, signs_from)

    def ensure(self) -> KeyInfo:
        """Create the first key pair when the ring is empty; return the signing key's facts."""
        with self._locked():
            infos = self.entries()
            if not infos:
                now = dt.datetime.now(dt.UTC)
                infos = [self._new_key(now, now)]
                self._write_ring(infos)
        info = self._signing_info(self.entries(), dt.datetime.now(dt.UTC))
        assert info is not None
        return info

    def rotate(self, overlap: dt.timedelta | None = None, now: dt.datetime | None = None) -> KeyInfo:
        """Publish a new key now that signs after the overlap, and drop keys retired long enough."""
        now = now or dt.datetime.now(dt.UTC)
        with self._locked():
            infos = self.entries()
            new = self._new_key(now, now + (self.overlap if overlap is None else overlap))
            infos.append(new)
            self._write_ring(infos)
            self._prune(now)
        return new

    def prune(self, now: dt.datetime | None = None) -> list[str]:
        """Remove keys no longer published; return their kids."""
        with self._locked():
            return self._prune(now or dt.datetime.now(dt.UTC))

    def _prune(self, now: dt.datetime) -> list[str]:
        infos = self.entries()
        keep = {info.kid for info in self.published(now)}
        dropped = [info.kid for info in infos if info.kid not in keep]
        if dropped:
            self._write_ring([info for info in infos if info.kid in keep])
            for kid in dropped:
                (self.folder / f"lti-{kid}.pem").unlink(missing_ok=True)
                self._private.pop(kid, None)
        return dropped


def _hours(name: str, default: dt.timedelta, app: Flask) -> dt.timedelta:
    value: Any = app.config.get(name)
    if value is None:
        return default
    return dt.timedelta(hours=float(value))


def init_app(app: Flask) -> KeyRing:
    """Attach the tool's keyring to the app, generating the first key pair if there is none."""
    ring = KeyRing(
        get_settings(app).keys_dir,
        overlap=_hours("LTI_KEY_OVERLAP_HOURS", DEFAULT_OVERLAP, app),
        retention=_hours("LTI_KEY_RETENTION_HOURS", DEFAULT_RETENTION, app),
    )
    ring.ensure()
    app.extensions[EXTENSION_KEY] = ring
    return ring


def get_keyring(app: Flask | None = None) -> KeyRing:
    """Return the app's keyring."""
    return (app or current_app).extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
