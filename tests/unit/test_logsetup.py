"""What Asgard's log lines show of a failure: its traceback as text, never its locals.

The console format is what an operator running ``asgard serve`` in a terminal reads, and
what a test harness captures; a traceback rendered with each frame's locals would show a
client's headers or a cluster entry's password there, past the redaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Literal

import pytest
import structlog

from asgard.logsetup import configure_logging

SECRET_URL = "http://admin:hunter2@marathon.example:8080"


@pytest.fixture
def restored() -> Iterator[None]:
    yield
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


def _fail_with_a_secret_in_a_local() -> None:
    password = "hunter2-local"  # noqa: F841 - what a frame's locals would show
    raise ConnectionError(f"{SECRET_URL} reset the connection")


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_a_logged_traceback_is_redacted_text_without_locals(
    fmt: Literal["console", "json"], restored: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", fmt)
    try:
        _fail_with_a_secret_in_a_local()
    except ConnectionError as exc:
        structlog.get_logger("test").warning("feed failed", exc_info=exc)
    err = capsys.readouterr().err
    assert "feed failed" in err
    assert "_fail_with_a_secret_in_a_local" in err  # the traceback is there
    assert "ConnectionError" in err
    assert "hunter2" not in err  # neither the URL's password nor the local's value
    assert "marathon.example:8080" in err
