"""Validate, mask and encrypt national ID numbers (身分證字號) and the numbers foreign staff use instead (D6).

Kinds accepted:
- national ID: a letter, 1 or 2, then 8 digits, with the 內政部 checksum;
- resident certificate (居留證/統一證號), new style (second character 8 or 9) and old style (a second
  letter A-D), with the same checksum;
- passport numbers, only where the caller allows them (5-20 letters and digits, no checksum exists).

The number is encrypted at rest with AES-256-GCM under a key from configuration (`CERTIFICATION_ID_KEY`,
else a key file generated under KEYS_DIR with mode 0600) and looked up by an HMAC-SHA256 of the
normalised number under a second key derived from the same secret. It is masked on every screen
(A12****789), never logged, and decrypted only to build an export.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lrs.config import write_once

# Letter -> two-digit area code (內政部 rule); I, O, W, X, Y, Z are out of alphabetical order.
LETTER_CODES = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34, "J": 18, "K": 19,
    "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25, "S": 26, "T": 27, "U": 28, "V": 29,
    "W": 32, "X": 30, "Y": 31, "Z": 33,
}
_WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
_NATIONAL_RE = re.compile(r"^[A-Z][12]\d{8}$")
_RESIDENT_NEW_RE = re.compile(r"^[A-Z][89]\d{8}$")
_RESIDENT_OLD_RE = re.compile(r"^[A-Z][A-D]\d{8}$")
_PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")
KEY_FILE_NAME = "certification_id.key"
_CIPHER_PREFIX = "g1:"
_AAD = b"learning-bridge national id v1"


class IdKind(enum.StrEnum):
    """What kind of identity number a person has."""

    NATIONAL = "national"
    RESIDENT = "resident"
    PASSPORT = "passport"


class InvalidIdNumber(ValueError):
    """An identity number fails its format or checksum; the message never repeats the number."""


def normalise(number: str) -> str:
    """Upper-case and strip spaces and hyphens."""
    return re.sub(r"[\s-]", "", number or "").upper()


def _checksum_ok(number: str) -> bool:
    area = LETTER_CODES[number[0]]
    second = number[1]
    # Old-style resident numbers carry a second letter; its code's last digit takes the place of the digit.
    second_digit = LETTER_CODES[second] % 10 if second.isalpha() else int(second)
    digits = [area // 10, area % 10, second_digit] + [int(c) for c in number[2:]]
    return sum(d * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 10 == 0


def classify(number: str, *, allow_passport: bool = False) -> tuple[str, IdKind]:
    """Return the normalised number and its kind, or raise InvalidIdNumber saying what is wrong."""
    value = normalise(number)
    if not value:
        raise InvalidIdNumber("The ID number is empty.")
    if _NATIONAL_RE.match(value) or _RESIDENT_NEW_RE.match(value) or _RESIDENT_OLD_RE.match(value):
        if not _checksum_ok(value):
            raise InvalidIdNumber("The ID number's check digit does not match: check for a mistyped character.")
        kind = IdKind.NATIONAL if value[1] in "12" else IdKind.RESIDENT
        return value, kind
    if len(value) == 10 and value[0].isalpha() and value[1:].isdigit():
        raise InvalidIdNumber("A national ID has 1 or 2 (a resident number 8 or 9) as its second character.")
    if allow_passport and _PASSPORT_RE.match(value):
        return value, IdKind.PASSPORT
    if allow_passport:
        raise InvalidIdNumber("Not a valid national ID, resident certificate or passport number (5-20 letters and digits).")
    raise InvalidIdNumber("Not a valid national ID or resident certificate number (a letter, then 9 characters with a valid check digit).")


def is_valid(number: str, *, allow_passport: bool = False) -> bool:
    """Tell whether a number is a valid ID of an accepted kind."""
    try:
        classify(number, allow_passport=allow_passport)
    except InvalidIdNumber:
        return False
    return True


def mask(number: str) -> str:
    """Mask a number for screens: A123456789 -> A12****789; short numbers keep less."""
    value = normalise(number)
    if len(value) >= 8:
        return value[:3] + "*" * (len(value) - 6) + value[-3:]
    if len(value) >= 3:
        return value[0] + "*" * (len(value) - 2) + value[-1]
    return "*" * len(value)


@dataclass(frozen=True)
class SealedId:
    """An ID number as stored: ciphertext, lookup hash, mask and kind; never the plaintext."""

    cipher: str
    lookup: str
    masked: str
    kind: IdKind


class IdVault:
    """Encrypt, decrypt and hash ID numbers under one secret (32 random bytes)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise ValueError("The ID encryption secret must be 32 bytes.")
        self._aead = AESGCM(self._derive(secret, b"aes-gcm"))
        self._mac_key = self._derive(secret, b"hmac-lookup")

    def __repr__(self) -> str:
        return "IdVault(<secret hidden>)"

    @staticmethod
    def _derive(secret: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"learning-bridge id " + info).derive(secret)

    def lookup_hash(self, number: str) -> str:
        """Return the keyed hash that finds a person by number without decrypting anything."""
        return hmac.new(self._mac_key, normalise(number).encode("ascii", "replace"), hashlib.sha256).hexdigest()

    def encrypt(self, number: str) -> str:
        """Encrypt a normalised number with a fresh nonce."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, normalise(number).encode("ascii"), _AAD)
        return _CIPHER_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, cipher: str) -> str:
        """Decrypt a stored number (for exports only)."""
        if not cipher.startswith(_CIPHER_PREFIX):
            raise ValueError("Unknown ID cipher format.")
        raw = base64.urlsafe_b64decode(cipher[len(_CIPHER_PREFIX):].encode("ascii"))
        try:
            return self._aead.decrypt(raw[:12], raw[12:], _AAD).decode("ascii")
        except InvalidTag:
            raise ValueError("The ID number cannot be decrypted with this key: KEYS_DIR or CERTIFICATION_ID_KEY changed.") from None

    def seal(self, number: str, *, allow_passport: bool = False) -> SealedId:
        """Validate a number and return what is stored for it."""
        value, kind = classify(number, allow_passport=allow_passport)
        return SealedId(self.encrypt(value), self.lookup_hash(value), mask(value), kind)


def load_secret(keys_dir: Path, configured: str | None = None) -> bytes:
    """Return the ID secret: from configuration (base64 of 32 bytes), else from KEYS_DIR, generated once (0600)."""
    if configured:
        try:
            secret = base64.urlsafe_b64decode(configured.encode("ascii") + b"=" * (-len(configured) % 4))
        except (ValueError, UnicodeEncodeError):
            raise ValueError("CERTIFICATION_ID_KEY must be URL-safe base64 of 32 random bytes.") from None
        if len(secret) != 32:
            raise ValueError("CERTIFICATION_ID_KEY must decode to exactly 32 bytes.")
        return secret
    path = keys_dir / KEY_FILE_NAME
    if not path.exists():
        write_once(path, base64.urlsafe_b64encode(secrets.token_bytes(32)))
    secret = base64.urlsafe_b64decode(path.read_bytes().strip())
    if len(secret) != 32:
        raise ValueError(f"{path} does not hold a 32-byte key; restore it from backup (deleting it loses every stored ID).")
    return secret
