"""Requests aiohttp's parser refuses, logged as what they are: one warning line.

A NUL in a header, a URL over 8 KB or a request line that is not HTTP is answered 400 by
aiohttp before any handler runs, and aiohttp logs it with ``logger.exception``: an error
and a traceback of its own parser, for what is a client's mistake (or a scanner's probe)
and no fault of Asgard. On a server reachable from the internet those tracebacks would
bury the ones that matter. This filter, on aiohttp's server logger, turns such a record
into one warning line naming the client's address and the parser's reason; the answer
to the client is unchanged.
"""

from __future__ import annotations

import logging
from typing import Final

from aiohttp.http_exceptions import HttpProcessingError

__all__ = ["MESSAGE", "ParserRefusals"]

MESSAGE: Final = "refused a request the HTTP parser cannot read"
REASON_CHARS: Final = 200
"""The parser's reason may quote the request it refused; a line of it is enough."""


def _reason(exc: HttpProcessingError) -> str:
    first = next((line.strip() for line in str(exc.message).splitlines() if line.strip()), "")
    printable = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in first)
    return printable[:REASON_CHARS] or type(exc).__name__


class ParserRefusals(logging.Filter):
    """Rewrites aiohttp's record of a refused request: a warning (a debug line stays a
    debug line), the reason in the message, and no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.msg = "%s from %s: %s (%s)"
        record.args = (MESSAGE, remote, _reason(exc), type(exc).__name__)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        if record.levelno > logging.WARNING:
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        return True
