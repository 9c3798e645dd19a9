"""What every answer says to caches and browsers: keep no copy, and use HTTPS from now on.

Answers of the API carry keys (``POST /users/me/tokens``), JWTs (``GET
/accounts/{id}/auth``) and one tenant's data; a shared proxy or a browser's disk cache
must not keep them. So every answer that does not say how it may be cached (the
dashboard's static files do: their paths name their versions) says ``Cache-Control:
no-store``. One rule for every route rather than a list of the routes that carry a
secret: a route added later is covered without anyone remembering to.

An answer given over HTTPS also carries ``Strict-Transport-Security``, so a browser
never again reaches Asgard over plain HTTP. Whether a request came over HTTPS is the
socket's own TLS, or, when Asgard is configured to trust the proxy in front of it
(``ASGARD_TRUST_PROXY``), that proxy's ``X-Forwarded-Proto``. Without that setting the
header is ignored: any client can send it. The dashboard's Secure cookie asks the same
question (:func:`is_https`).
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

__all__ = ["HSTS", "NO_STORE", "TRUST_PROXY", "install_security_headers", "is_https"]

NO_STORE: Final = "no-store"
HSTS: Final = "max-age=31536000; includeSubDomains"
"""A year, the length browsers' preload lists ask for, and every name below Asgard's."""
TRUST_PROXY = web.AppKey("trust_proxy", bool)


def is_https(request: web.Request) -> bool:
    """Whether the client reached Asgard over HTTPS, as far as Asgard can tell."""
    if request.secure:  # the socket's own TLS
        return True
    if not request.app.get(TRUST_PROXY, False):
        return False
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return forwarded == "https"


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every answer, streams and errors included (a response-prepare hook, not a
    middleware, so that aiohttp's own answers get them too)."""
    response.headers.setdefault("Cache-Control", NO_STORE)
    if is_https(request):
        response.headers["Strict-Transport-Security"] = HSTS


def install_security_headers(app: web.Application, *, trust_proxy: bool) -> None:
    """Add the headers to every answer of ``app``; after the dashboard's own hook, so
    that what it says of its static files stands."""
    app[TRUST_PROXY] = trust_proxy
    app.on_response_prepare.append(security_headers)
