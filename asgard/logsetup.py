"""structlog, configured once: JSON lines in production, readable lines in a terminal.

Request handlers bind ``request_id``, ``user_id`` and ``account_id`` into the
context (``asgard.http.middlewares``), so every line logged while answering a
request carries them. Credentials are never passed to a logger.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

from asgard.http.refusals import ParserRefusals
from asgard.redact import redact


def configure_logging(level: str = "INFO", fmt: Literal["json", "console"] | None = None) -> None:
    if fmt is None:
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    # A traceback is made text before ``_redact``, in both formats: the console renderer's
    # own (rich, with every frame's locals) would print a client's headers or a cluster
    # entry's password past the redaction.
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    server = logging.getLogger("aiohttp.server")
    server.filters[:] = [f for f in server.filters if not isinstance(f, ParserRefusals)]
    server.addFilter(ParserRefusals())
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _redact(
    _logger: object, _name: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """Every text of the line, the event and a traceback included, without credentials."""
    return {k: redact(v) if isinstance(v, str) else v for k, v in event.items()}
