"""At a terminal the command draws: tables fitted to its width, progress bars for
uploads and downloads. (Into pipes it writes plain text; the other tests read that.)"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import threading
import time
from collections.abc import Callable

from testbed.asgard_process import RunningAsgard
from tests.cli.conftest import Cli
from tests.support.dockerd import TEST_IMAGE

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
WIDTH = 72


def at_terminal(
    cli: Cli,
    *args: str,
    timeout_s: float = 120,
    when: tuple[str, Callable[[], object]] | None = None,
    until: str | None = None,
) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal WIDTH columns wide, to its end, or
    (``until``) until that text is drawn, then stop it. ``when`` does something (in a
    thread, the drawing goes on) once its text is drawn."""
    helper: threading.Thread | None = None
    primary, secondary = pty.openpty()
    env = {**cli.env, "COLUMNS": str(WIDTH), "LINES": "40", "TERM": "xterm-256color"}
    process = subprocess.Popen(
        cli.command(*args), cwd=cli.cwd, env=env, stdout=secondary, stderr=secondary
    )
    os.close(secondary)
    seen = b""
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            text = ANSI.sub("", seen.decode(errors="replace"))
            if when is not None and helper is None and when[0] in text:
                helper = threading.Thread(target=when[1])
                helper.start()
            if until is not None and until in text:
                process.terminate()
                break
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:  # the other end closed: the command is done
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
    finally:
        os.close(primary)
        if helper is not None:
            helper.join()
    return process.wait(timeout=30), seen.decode(errors="replace")


def test_tables_fit_the_terminal_and_transfers_show_a_bar(cli: Cli) -> None:
    code, drawn = at_terminal(cli, "get", "clusters", "-o", "wide")
    assert code == 0, drawn
    assert ANSI.search(drawn), "a terminal gets styles"
    text = ANSI.sub("", drawn)
    assert "NAME" in text
    assert "local" in text
    assert max(len(line) for line in text.splitlines()) <= WIDTH, text

    (cli.cwd / "in").mkdir()
    (cli.cwd / "in" / "big.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    script = "cp /input/big.bin /output/copy.bin"
    code, drawn = at_terminal(
        cli, "jobs", "run", TEST_IMAGE, "--input", "in", "--output", "out", "--", "sh", "-c", script
    )
    assert code == 0, drawn
    text = ANSI.sub("", drawn)
    assert "input from in" in text
    assert "output of busybox-" in text
    assert "━" in text, "a progress bar"
    assert "2.0/2.0 MB" in text or "2.1/2.1 MB" in text, text
    assert (cli.cwd / "out" / "copy.bin").read_bytes() == (cli.cwd / "in" / "big.bin").read_bytes()


def test_watch_redraws_the_table_in_place(cli: Cli) -> None:
    spec = {"id": "drawn", "image": TEST_IMAGE, "args": ["true"], "instances": 0}
    (cli.cwd / "drawn.json").write_text(json.dumps(spec))
    code, drawn = at_terminal(
        cli,
        "get",
        "apps",
        "--watch",
        timeout_s=60,
        when=("CLUSTER", lambda: cli.ok("apps", "deploy", "-f", "drawn.json")),
        until="drawn",
    )
    text = ANSI.sub("", drawn)
    assert "drawn" in text, "the new app is drawn into the table"
    assert "ADDED" not in text, "at a terminal the table is redrawn, not appended to"
    assert code in (0, -15), drawn  # stopped by the test


def test_login_at_a_terminal_asks_for_the_key_without_echo(cli: Cli, served: RunningAsgard) -> None:
    env = {k: v for k, v in cli.env.items() if k not in ("ASGARD_URL", "ASGARD_TOKEN")}
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        cli.command("login", "--url", served.url),
        cwd=cli.cwd,
        env=env,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        start_new_session=True,  # no /dev/tty of the test run: getpass asks on stdin, the pty
    )
    os.close(secondary)
    seen = b""
    typed = False
    deadline = time.monotonic() + 60
    try:
        # to the command's end: closing the terminal before it exits would hang it up
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(primary, 65536)
                except OSError:  # the command closed its end: it is done
                    break
            elif process.poll() is not None:
                break
            if not typed and b"API key: " in seen:
                os.write(primary, served.key.encode() + b"\n")
                typed = True
    finally:
        os.close(primary)
    text = seen.decode(errors="replace")
    assert process.wait(timeout=30) == 0, text
    assert typed, text
    assert "logged in to" in text
    assert served.key not in text, "what was typed is not echoed"
