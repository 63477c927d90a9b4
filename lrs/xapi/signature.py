"""Verify signed statements (xAPI 1.0.3 Data 2.6, IEEE 9274.1.1 4.2.6).

A signed statement carries a JWS in compact serialization as an attachment with usageType
http://adlnet.gov/expapi/attachments/signature and contentType application/octet-stream. The LRS
rejects with 400 a malformed signature: an algorithm other than RS256/RS384/RS512, a payload that
is not a statement logically equivalent to the one received, or (when the header carries an X.509
chain in `x5c`) a signature that the certificate's key does not verify.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lrs.errors import BadRequest
from lrs.xapi.attachments import AttachmentData
from lrs.xapi.equivalence import equivalent
from lrs.xapi.statements import signature_attachments

_ALGORITHMS: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}


def _b64url(segment: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise BadRequest(f"The statement's signature has a {what} that is not base64url.") from None


def verify_jws(token: str, stmt: dict[str, Any]) -> None:
    """Check one JWS against the statement it signs, or raise BadRequest."""
    pieces = token.strip().split(".")
    if len(pieces) != 3:
        raise BadRequest("The statement's signature is not a JWS in compact serialization (header.payload.signature).")
    try:
        header = orjson.loads(_b64url(pieces[0], "header"))
        payload = orjson.loads(_b64url(pieces[1], "payload"))
    except orjson.JSONDecodeError:
        raise BadRequest("The statement's signature has a header or payload that is not JSON.") from None
    if not isinstance(header, dict) or header.get("alg") not in _ALGORITHMS:
        raise BadRequest("The statement's signature must use the algorithm RS256, RS384 or RS512.")
    if not isinstance(payload, dict) or not equivalent(payload, stmt):
        raise BadRequest("The statement's signature payload is not logically equivalent to the statement sent.")
    chain = header.get("x5c")
    if chain:
        if not isinstance(chain, list) or not isinstance(chain[0], str):
            raise BadRequest("The statement's signature header x5c must be an array of base64 certificates.")
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
        except (binascii.Error, ValueError):
            raise BadRequest("The statement's signature header x5c does not hold an X.509 certificate.") from None
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise BadRequest("The statement's signing certificate must hold an RSA key.")
        signature = _b64url(pieces[2], "signature")
        try:
            key.verify(signature, f"{pieces[0]}.{pieces[1]}".encode("ascii"), padding.PKCS1v15(), _ALGORITHMS[header["alg"]]())
        except InvalidSignature:
            raise BadRequest("The statement's signature does not verify against the certificate in its x5c header.") from None


def verify_signed(stmt: dict[str, Any], data: dict[str, AttachmentData]) -> None:
    """Verify every signature attachment of a statement whose data was sent."""
    for item in signature_attachments(stmt):
        if item.get("contentType") != "application/octet-stream":
            raise BadRequest("A signature attachment must have contentType application/octet-stream.")
        part = data.get(str(item["sha2"]).lower())
        if part is None:
            raise BadRequest("A signature attachment's JWS must be sent in the request, not by fileUrl.")
        try:
            token = part.data.decode("ascii")
        except UnicodeDecodeError:
            raise BadRequest("The statement's signature is not a JWS in compact serialization.") from None
        verify_jws(token, stmt)
