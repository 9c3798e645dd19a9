"""At a terminal the command draws: tables fitted to its width, progress bars for
uploads and downloads. (Into pipes it writes plain text; the other tests read that.)"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time

from tests.cli.conftest import Cli
from tests.support.dockerd import TEST_IMAGE

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
WIDTH = 72


def at_terminal(cli: Cli, *args: str, timeout_s: float = 120) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal WIDTH columns wide."""
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
