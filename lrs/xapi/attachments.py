"""Read and write `multipart/mixed` statement requests and responses with attachments.

xAPI 1.0.3 Communication 1.5.2 (Attachments): the first part is the statement(s) as
application/json; each further part carries one attachment's raw data with an
`X-Experience-API-Hash` header (its SHA-2) and `Content-Transfer-Encoding: binary`. Every
attachment without a `fileUrl` must have its data in the request, and every part must belong to an
attachment. Signed statements (Data 2.6) are checked in `lrs.xapi.signature`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lrs.errors import BadRequest

_HASHES = {56: hashlib.sha224, 64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


@dataclass(frozen=True)
class Part:
    """One part of a multipart body."""

    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        """Return the part's media type, lowercased, without parameters."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class AttachmentData:
    """The raw data of one attachment, found by its SHA-2."""

    sha2: str
    content_type: str
    data: bytes


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").split("\r\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(f"A multipart part has a malformed header line {line[:60]!r}.")
        headers[name.strip().lower()] = value.strip()
    return headers


def parse_multipart(body: bytes, boundary: str) -> list[Part]:
    """Split a multipart/mixed body into its parts (RFC 2046 5.1)."""
    if not boundary:
        raise BadRequest("The multipart/mixed Content-Type needs a boundary parameter.")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise BadRequest("The multipart/mixed body has no parts delimited by its boundary.")
    parts: list[Part] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            if chunk.startswith(b"\r\n"):
                head, content = b"", chunk[2:]
            else:
                raise BadRequest("A multipart part has no blank line between its headers and its body.")
        parts.append(Part(_parse_headers(head), content))
    else:
        raise BadRequest("The multipart/mixed body does not end with its closing boundary.")
    if not parts:
        raise BadRequest("The multipart/mixed body has no parts.")
    return parts


def sha2_of(data: bytes, length: int) -> str:
    """Return the hex SHA-2 of data with the digest size that a hash of `length` hex digits has."""
    return _HASHES.get(length, hashlib.sha256)(data).hexdigest()


def collect_attachment_parts(parts: Sequence[Part]) -> dict[str, AttachmentData]:
    """Check the attachment parts (every part after the first) and index them by SHA-2."""
    found: dict[str, AttachmentData] = {}
    for index, part in enumerate(parts[1:], start=2):
        declared = part.headers.get("x-experience-api-hash", "").strip().lower()
        if not declared:
            raise BadRequest(f"Multipart part {index} has no X-Experience-API-Hash header (the SHA-2 of its data).")
        encoding = part.headers.get("content-transfer-encoding", "binary").strip().lower()
        if encoding != "binary":
            raise BadRequest(f"Multipart part {index} must have Content-Transfer-Encoding: binary, not {encoding!r}.")
        if not part.content_type:
            raise BadRequest(f"Multipart part {index} has no Content-Type.")
        if sha2_of(part.body, len(declared)) != declared:
            raise BadRequest(f"Multipart part {index}'s data does not match its X-Experience-API-Hash {declared}.")
        found[declared] = AttachmentData(declared, part.headers.get("content-type", ""), part.body)
    return found


def match_attachments(metadata: Iterable[dict[str, Any]], data: dict[str, AttachmentData]) -> None:
    """Check that every attachment has its data or a fileUrl, and that every part is used."""
    used: set[str] = set()
    for item in metadata:
        sha2 = str(item["sha2"]).lower()
        if sha2 in data:
            used.add(sha2)
        elif "fileUrl" not in item:
            raise BadRequest(
                f"The attachment with sha2 {sha2} has no fileUrl and no multipart part with that X-Experience-API-Hash."
            )
    unused = sorted(set(data) - used)
    if unused:
        raise BadRequest(f"Multipart part with X-Experience-API-Hash {unused[0]} matches no attachment of the statements.")


def build_multipart(json_body: bytes, attachments: Sequence[AttachmentData]) -> tuple[bytes, str]:
    """Build a multipart/mixed response body and return it with its Content-Type."""
    boundary = "xapi-" + secrets.token_hex(16)
    out = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        json_body,
        b"\r\n",
    ]
    for item in attachments:
        out.append(
            (
                f"--{boundary}\r\nContent-Type: {item.content_type}\r\n"
                f"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {item.sha2}\r\n\r\n"
            ).encode("latin-1")
        )
        out.append(item.data)
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/mixed; boundary={boundary}"
