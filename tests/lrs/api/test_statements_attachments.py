"""Test statements with attachments (multipart/mixed) and signed statements over HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import jwt
import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask.testing import FlaskClient

from lrs.xapi.attachments import parse_multipart
from tests.lrs.xapi.helpers import XapiClient, client_for, new_id, statement

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
CERTIFICATE = "http://example.com/attachment-usage/certificate"


@pytest.fixture
def xapi(client: FlaskClient, make_credential: Callable[..., tuple[str, str]]) -> XapiClient:
    """Give an xAPI 1.0.3 client with the `all` scope."""
    return client_for(client, make_credential)


def attachment(data: bytes, usage: str = CERTIFICATE, content_type: str = "text/plain", **extra: Any) -> dict[str, Any]:
    """Return attachment metadata for some data."""
    return {
        "usageType": usage,
        "display": {"en-US": "Certificate"},
        "contentType": content_type,
        "length": len(data),
        "sha2": hashlib.sha256(data).hexdigest(),
        **extra,
    }


def multipart(body: Any, *parts: tuple[bytes, str], hash_override: str | None = None) -> tuple[bytes, str]:
    """Build a multipart/mixed request body: the JSON first, then each (data, content type) part."""
    boundary = "abc123boundary"
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), orjson.dumps(body), b"\r\n"]
    for data, content_type in parts:
        digest = hash_override or hashlib.sha256(data).hexdigest()
        out.append(
            f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {digest}\r\n\r\n".encode()
        )
        out += [data, b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f'multipart/mixed; boundary="{boundary}"'


def post_multipart(xapi: XapiClient, body: bytes, content_type: str) -> Any:
    """POST a multipart body."""
    return xapi.client.post("/xapi/statements", data=body, headers=xapi.headers(**{"Content-Type": content_type}))


def test_statements_post_multipart_attachment_stored_and_returned(xapi: XapiClient) -> None:
    """Store attachment data matched by SHA-2 and return it with attachments=true (Communication 1.5.2, 2.1.3)."""
    data = "證書 certificate".encode()
    body, content_type = multipart(statement(attachments=[attachment(data)]), (data, "text/plain"))
    response = post_multipart(xapi, body, content_type)
    assert response.status_code == 200, response.get_data(as_text=True)
    ident = response.get_json()[0]
    got = xapi.get({"statementId": ident, "attachments": "true"})
    assert got.status_code == 200
    assert got.mimetype == "multipart/mixed"
    boundary = got.mimetype_params["boundary"]
    parts = parse_multipart(got.get_data(), boundary)
    assert orjson.loads(parts[0].body)["id"] == ident
    assert parts[1].body == data
    assert parts[1].headers["x-experience-api-hash"] == hashlib.sha256(data).hexdigest()
    assert parts[1].headers["content-transfer-encoding"] == "binary"
    listed = xapi.get({"attachments": "true"})
    assert listed.mimetype == "multipart/mixed"
    without = xapi.get({"statementId": ident})
    assert without.mimetype == "application/json"


def test_statements_put_multipart_attachment_accepted(xapi: XapiClient) -> None:
    """Accept multipart/mixed on PUT too (Communication 1.5.2)."""
    data = b"%PDF-1.4 fake"
    ident = new_id()
    body, content_type = multipart(statement(attachments=[attachment(data, content_type="application/pdf")]), (data, "application/pdf"))
    response = xapi.client.put(
        "/xapi/statements", query_string={"statementId": ident}, data=body, headers=xapi.headers(**{"Content-Type": content_type})
    )
    assert response.status_code == 204


def test_statements_post_file_url_attachment_without_data_accepted(xapi: XapiClient) -> None:
    """Accept an attachment with a fileUrl and no data as plain JSON (Communication 1.5.2.s2.b1)."""
    meta = attachment(b"elsewhere", fileUrl="https://example.com/cert.pdf")
    response = xapi.post(statement(attachments=[meta]))
    assert response.status_code == 200


def test_statements_post_attachment_without_data_or_file_url_rejected(xapi: XapiClient) -> None:
    """Reject an attachment that has neither data in the request nor a fileUrl (Communication 1.5.2)."""
    response = xapi.post(statement(attachments=[attachment(b"missing")]))
    assert response.status_code == 400
    assert "no fileUrl" in response.get_json()["error"]["message"]


def test_statements_post_part_hash_mismatch_rejected(xapi: XapiClient) -> None:
    """Reject a part whose data does not match its X-Experience-API-Hash (Communication 1.5.2)."""
    data = b"real data"
    body, content_type = multipart(statement(attachments=[attachment(data)]), (data, "text/plain"), hash_override="0" * 64)
    assert post_multipart(xapi, body, content_type).status_code == 400


def test_statements_post_unmatched_part_rejected(xapi: XapiClient) -> None:
    """Reject a part that belongs to no attachment of the statements (Communication 1.5.2)."""
    body, content_type = multipart(statement(), (b"stray", "text/plain"))
    assert post_multipart(xapi, body, content_type).status_code == 400


@pytest.mark.parametrize(
    "body",
    [b"no boundary at all", b"--abc123boundary\r\nContent-Type: application/json\r\n\r\n{}\r\n", b""],
)
def test_statements_post_malformed_multipart_rejected(xapi: XapiClient, body: bytes) -> None:
    """Answer 400, never 500, to a malformed multipart body."""
    assert post_multipart(xapi, body, 'multipart/mixed; boundary="abc123boundary"').status_code == 400


def test_statements_post_multipart_first_part_not_json_rejected(xapi: XapiClient) -> None:
    """Reject a multipart request whose first part is not application/json (Communication 1.5.2.s2.b3)."""
    body = b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
    assert post_multipart(xapi, body, "multipart/mixed; boundary=b").status_code == 400


# --- Signed statements ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signer() -> tuple[rsa.RSAPrivateKey, str]:
    """Give an RSA key and its self-signed certificate (base64 DER) for x5c."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signer.example.com")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def signed_request(
    signed: dict[str, Any], sent: dict[str, Any], key: Any, x5c: str | None, algorithm: str = "RS256"
) -> tuple[bytes, str]:
    """Sign `signed`, attach the JWS to `sent`, and build the multipart request."""
    headers = {"x5c": [x5c]} if x5c else None
    token = jwt.encode(signed, key, algorithm=algorithm, headers=headers).encode()
    body = dict(sent)
    body["attachments"] = [attachment(token, usage=SIGNATURE, content_type="application/octet-stream")]
    return multipart(body, (token, "application/octet-stream"))


def test_statements_post_signed_statement_verified(xapi: XapiClient, signer: tuple[Any, str]) -> None:
    """Accept a statement whose JWS verifies against its x5c certificate (Data 2.6)."""
    key, x5c = signer
    stmt = statement(id=new_id())
    body, content_type = signed_request(stmt, stmt, key, x5c)
    response = post_multipart(xapi, body, content_type)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_statements_post_signed_payload_differs_rejected(xapi: XapiClient, signer: tuple[Any, str]) -> None:
    """Reject a signature whose payload is not equivalent to the statement (Data 2.6.s4.b2)."""
    key, x5c = signer
    body, content_type = signed_request(statement(result={"success": True}), statement(result={"success": False}), key, x5c)
    response = post_multipart(xapi, body, content_type)
    assert response.status_code == 400
    assert "equivalent" in response.get_json()["error"]["message"]


def test_statements_post_signed_with_wrong_key_rejected(xapi: XapiClient, signer: tuple[Any, str]) -> None:
    """Reject a JWS that the x5c certificate's key does not verify (Data 2.6.s4.b3)."""
    _, x5c = signer
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stmt = statement()
    body, content_type = signed_request(stmt, stmt, other, x5c)
    response = post_multipart(xapi, body, content_type)
    assert response.status_code == 400
    assert "does not verify" in response.get_json()["error"]["message"]


def test_statements_post_signed_with_hmac_rejected(xapi: XapiClient) -> None:
    """Reject algorithms other than RS256, RS384 and RS512 (Data 2.6.s4.b4)."""
    stmt = statement()
    body, content_type = signed_request(stmt, stmt, "a-shared-secret-of-at-least-32-bytes!", None, algorithm="HS256")
    response = post_multipart(xapi, body, content_type)
    assert response.status_code == 400
    assert "RS256" in response.get_json()["error"]["message"]


def test_statements_post_signature_not_jws_rejected(xapi: XapiClient) -> None:
    """Reject a signature attachment that is not a JWS in compact serialization (Data 2.6)."""
    token = b"this is not a jws"
    body = statement(attachments=[attachment(token, usage=SIGNATURE, content_type="application/octet-stream")])
    request_body, content_type = multipart(body, (token, "application/octet-stream"))
    assert post_multipart(xapi, request_body, content_type).status_code == 400


def test_statements_post_signed_in_conformance_suite_layout(xapi: XapiClient, signer: tuple[Any, str]) -> None:
    """Accept the layout ADL's suite sends: leading CRLF, no space after header colons, no final CRLF (Data 2.6)."""
    key, _ = signer
    stmt = statement(id=new_id())
    token = jwt.encode(stmt, key, algorithm="RS256").encode()
    sent = dict(stmt)
    sent["attachments"] = [attachment(token, usage=SIGNATURE, content_type="application/octet-stream")]
    boundary = "-------------12345"
    body = b"".join(
        [
            f"\r\n--{boundary}\r\nContent-Type:application/json\r\n\r\n".encode(),
            orjson.dumps(sent),
            f"\r\n--{boundary}\r\nContent-Type:application/octet-stream\r\nContent-Transfer-Encoding:binary\r\n"
            f"X-Experience-API-Hash:{sent['attachments'][0]['sha2']}\r\n\r\n".encode(),
            token,
            f"\r\n--{boundary}--".encode(),
        ]
    )
    response = post_multipart(xapi, body, f"multipart/mixed; boundary={boundary}")
    assert response.status_code == 200, response.get_data(as_text=True)
