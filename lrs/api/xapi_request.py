"""Normalise an xAPI request: version, alternate request syntax, headers, parameters and body.

Every xAPI resource reads `g.xapi` (an `XapiRequest`) rather than Flask's request, so that the
alternate request syntax (xAPI 1.0.3 Communication 1.3) and the usual syntax look the same to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from werkzeug.datastructures import Headers, MultiDict

from lrs.errors import BadRequest

# Communication 1.3.s3.b6: these form parameters are headers in the alternate syntax.
ALTERNATE_HEADER_PARAMS = (
    "Authorization",
    "X-Experience-API-Version",
    "Content-Type",
    "Content-Length",
    "If-Match",
    "If-None-Match",
)
ALTERNATE_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}
V1 = "1.0.3"
V2 = "2.0.0"


@dataclass
class XapiRequest:
    """The request as the resource should see it."""

    method: str
    version: str
    headers: Headers
    params: MultiDict[str, str]
    body: bytes
    alternate: bool = False
    content_type: str = ""
    mimetype: str = ""
    mimetype_params: dict[str, str] = field(default_factory=dict)

    @property
    def is_v2(self) -> bool:
        """Tell whether the client speaks xAPI 2.0."""
        return self.version.startswith("2.")


def negotiate_version(header: str | None, *, required: bool = True) -> str:
    """Map the client's X-Experience-API-Version to the version we answer with.

    xAPI 1.0.3 Communication 3.3: every request carries the header; an LRS accepts 1.0.x (and "1.0"
    as if it were "1.0.0", 3.3.s3.b3) and rejects other versions with 400; responses carry the latest
    patch version. xAPI 2.0.0 adds "2.0.0". The About resource answers whatever the header says
    (Communication 2.8.s5.b4), so when the header is not required an unusable one means 1.0.3.
    """
    value = (header or "").strip()
    parts = value.split(".")
    if len(parts) in (2, 3) and all(part.isdigit() for part in parts):
        if parts[0] == "1" and parts[1] == "0":
            return V1
        if parts[0] == "2" and parts[1] == "0":
            return V2
    if not required:
        return V1
    if not value:
        raise BadRequest("The X-Experience-API-Version header is missing: send 1.0.3 or 2.0.0.")
    raise BadRequest(f"X-Experience-API-Version {value!r} is not supported: send 1.0.3 or 2.0.0.")


def split_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Split a Content-Type into a lowercase mimetype and its parameters."""
    if not value:
        return "", {}
    head, *rest = value.split(";")
    params: dict[str, str] = {}
    for item in rest:
        if "=" in item:
            key, _, raw = item.partition("=")
            params[key.strip().lower()] = raw.strip().strip('"')
    return head.strip().lower(), params


def build_request(
    method: str,
    headers: Headers,
    query_string: bytes,
    body: bytes,
    *,
    version_required: bool = True,
) -> XapiRequest:
    """Build the `XapiRequest`, unwrapping the alternate request syntax when it is used."""
    query = MultiDict(parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True))
    if method == "POST" and "method" in query:
        return _build_alternate(headers, query, body, version_required)
    version = negotiate_version(headers.get("X-Experience-API-Version"), required=version_required)
    content_type = headers.get("Content-Type", "")
    mimetype, mparams = split_content_type(content_type)
    return XapiRequest(method, version, headers, query, body, False, content_type, mimetype, mparams)


def _build_alternate(
    headers: Headers, query: MultiDict[str, str], body: bytes, version_required: bool
) -> XapiRequest:
    intended = (query.get("method") or "").upper()
    if intended not in ALTERNATE_METHODS:
        raise BadRequest(f"The alternate request syntax's method {query.get('method')!r} is not one of GET, PUT, POST, DELETE.")
    others = [name for name in query if name != "method"]
    if others:
        # Communication 1.3.s3.b3 and b13: only "method" may be in the query string.
        raise BadRequest(
            f"With the alternate request syntax, put {others[0]!r} in the form body: only 'method' may be in the query string."
        )
    outer_type, _ = split_content_type(headers.get("Content-Type", ""))
    if outer_type != "application/x-www-form-urlencoded":
        raise BadRequest("The alternate request syntax needs Content-Type application/x-www-form-urlencoded.")
    try:
        form = MultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        raise BadRequest("The alternate request syntax's form body is not valid UTF-8.") from None
    merged = Headers()
    for name, value in headers.items():
        if name.lower() not in {"content-type", "content-length"}:
            merged.add(name, value)
    lowered = {name.lower(): name for name in ALTERNATE_HEADER_PARAMS}
    params: MultiDict[str, str] = MultiDict()
    content = ""
    for name, value in form.items(multi=True):
        if name == "content":
            content = value
        elif name.lower() in lowered:
            merged[lowered[name.lower()]] = value
        else:
            params.add(name, value)
    try:
        version = negotiate_version(merged.get("X-Experience-API-Version"), required=version_required)
    except BadRequest:
        # A form version this LRS cannot speak, sent with a real header it can: the header decides
        # (ADL's 1.0.3 suite, H.Communication1.3, sends the form field 0.8 and expects the request to succeed).
        header = headers.get("X-Experience-API-Version")
        if header is None or header == merged.get("X-Experience-API-Version"):
            raise
        version = negotiate_version(header, required=version_required)
        merged["X-Experience-API-Version"] = header
    if version == V2:
        # xAPI 2.0.0 removed the alternate request syntax.
        raise BadRequest("xAPI 2.0.0 has no alternate request syntax: send a normal request with headers.")
    content_type = merged.get("Content-Type", "application/json" if content else "")
    mimetype, mparams = split_content_type(content_type)
    return XapiRequest(intended, version, merged, params, content.encode("utf-8"), True, content_type, mimetype, mparams)
