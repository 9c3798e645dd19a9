"""Credentials taken out of text that leaves Asgard: error messages and log lines.

A cluster entry may carry its credentials in its URL (``http://user:pass@marathon:8080``,
``?access_token=...``), and a client library may quote the URL, or a header, in the
error it raises. Such text reaches tenants (an ``errors`` entry, ``GET /clusters``) and
the logs, so it passes through :func:`redact` first: a URL's userinfo is removed, the
values of query parameters that name a secret and of ``Authorization`` headers are
replaced, and Asgard's own keys and JWTs are replaced wherever they appear. Hosts and
paths stay: they say which cluster endpoint failed, and are not secrets.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["HIDDEN", "redact"]

HIDDEN: Final = "***"

_USERINFO: Final = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@?#]+@")
_SECRET_PARAMS: Final = (
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "password",
    "passwd",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "signature",
)
_QUERY_SECRET: Final = re.compile(
    r"(?P<name>(?<![A-Za-z0-9_-])(?:" + "|".join(_SECRET_PARAMS) + r")=)[^&\s#'\",;)\]}]+",
    re.IGNORECASE,
)
_AUTH_HEADER: Final = re.compile(
    r"(?P<name>\b(?:Authorization|Proxy-Authorization)['\"]?\s*[:=,]\s*['\"]?)"
    r"(?:(?P<scheme>Bearer|Token|Basic|JWT|Digest)\s+)?"
    r"(?!(?:Bearer|Token|Basic|JWT|Digest)\b)[A-Za-z0-9][^\s'\",;)\]}]*",
    re.IGNORECASE,
)
_SCHEME_CREDENTIAL: Final = re.compile(r"\b(?P<scheme>Bearer|Basic|JWT)\s+[A-Za-z0-9._~+/=-]{8,}")
_ASGARD_KEY: Final = re.compile(r"\basg_[A-Za-z0-9]+_[A-Za-z0-9_-]+")
_JWT: Final = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _header(match: re.Match[str]) -> str:
    scheme = match.group("scheme")
    return f"{match.group('name')}{scheme + ' ' if scheme else ''}{HIDDEN}"


def redact(text: str) -> str:
    """``text`` without the credentials it may quote; anything else is kept as it was."""
    if not text:
        return text
    text = _USERINFO.sub(r"\g<scheme>", text)
    text = _QUERY_SECRET.sub(lambda m: m.group("name") + HIDDEN, text)
    text = _AUTH_HEADER.sub(_header, text)
    text = _SCHEME_CREDENTIAL.sub(lambda m: f"{m.group('scheme')} {HIDDEN}", text)
    text = _ASGARD_KEY.sub(HIDDEN, text)
    return _JWT.sub(HIDDEN, text)
