"""One connection to an Asgard server: credentials, the account, and turning answers into
models or typed errors. The resource clients beside this module only say which route."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ValidationError

from asgard.client.errors import ConnectionFailed, UnexpectedAnswer, error_for

__all__ = ["Params", "Transport", "auth_header", "lines", "path_of"]

M = TypeVar("M", bound=BaseModel)
Params = Mapping[str, Any]

DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, connect=10, sock_read=300)
"""No total: logs and events stream for as long as they are read."""


FOLLOW_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, connect=10, sock_read=None)


async def lines(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """Lines without their ending, of any length (aiohttp's own line reader refuses lines
    past its buffer size; one log line can be longer)."""
    pending = b""
    async for chunk in content.iter_any():
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.removesuffix(b"\r")
    if pending:
        yield pending.removesuffix(b"\r")


def auth_header(token: str) -> str:
    """An API key goes as ``Token``, a JWT (three dot-separated parts) as ``Bearer``."""
    if token.count(".") == 2 and token.startswith("eyJ"):
        return f"Bearer {token}"
    return f"Token {token}"


def path_of(*segments: str) -> str:
    """A URL path from its parts, each quoted; an app id keeps its ``/`` (it is a path)."""
    return "/" + "/".join(quote(segment, safe="/") for segment in segments)


def query_of(params: Params | None) -> dict[str, str]:
    """Lists comma-joined, booleans as the API spells them, None left out."""
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            if value:
                out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


class Transport:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        account_id: int | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.account_id = account_id
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = auth_header(self.token)
        return {**headers, **(extra or {})}

    def params(self, params: Params | None) -> dict[str, str]:
        query = query_of(params)
        if self.account_id is not None:
            query.setdefault("account_id", str(self.account_id))
        return query

    @contextlib.asynccontextmanager
    async def open(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The response of a successful request, unread (for streams and downloads); an
        error status is raised as its typed error, a missing server as ConnectionFailed."""
        try:
            async with self.session.request(
                method,
                self.url + path,
                params=self.params(params),
                headers=self.headers(headers),
                **kwargs,
            ) as response:
                if response.status >= 400:
                    raise await _error(response)
                yield response
        except aiohttp.ClientError as exc:  # refused, reset, timed out, cut mid-answer, bad URL
            raise ConnectionFailed(f"{self.url}: {exc or type(exc).__name__}") from exc

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
        **kwargs: Any,
    ) -> Any:
        """The decoded JSON answer (None for 204)."""
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body)
            kwargs.setdefault("headers", {})["Content-Type"] = "application/json"
        async with self.open(method, path, params=params, **kwargs) as response:
            if response.status == 204:
                return None
            text = await response.text()
            try:
                return json.loads(text) if text else None
            except ValueError:
                raise UnexpectedAnswer(f"{self.url}{path}: the answer is not JSON") from None

    async def model(
        self,
        model: type[M],
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: BaseModel | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> M:
        if isinstance(body, BaseModel):
            body = body.model_dump(mode="json", exclude_unset=True)
        data = await self.call(method, path, params=params, json_body=body, **kwargs)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise UnexpectedAnswer(
                f"{self.url}{path}: not the answer this client knows ({exc.error_count()} "
                f"differences, first: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']})"
            ) from None

    async def text(
        self, path: str, params: Params | None = None, *, follow: bool = False
    ) -> AsyncIterator[str]:
        """A text answer line by line as the server sends it. A followed stream may stay
        quiet for as long as what it follows does, so it has no read timeout."""
        extra: dict[str, Any] = {"timeout": FOLLOW_TIMEOUT} if follow else {}
        headers = {"Accept": "*/*"}
        async with self.open("GET", path, params=params, headers=headers, **extra) as response:
            async for raw in lines(response.content):
                yield raw.decode(errors="replace")


async def _error(response: aiohttp.ClientResponse) -> Exception:
    text = await response.text(errors="replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = {"errors": [{"msg": text.strip()[:500] or response.reason or "error"}]}
    return error_for(response.status, body, response.headers.get("Retry-After"))
