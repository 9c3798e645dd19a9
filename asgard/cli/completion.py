"""``asgard completion bash|zsh|fish``: the script that makes the shell complete ``asgard``
(``eval "$(asgard completion bash)"`` in ``~/.bashrc``). Completion itself is argcomplete
walking the same argparse parser the command runs, so it cannot drift from it."""

from __future__ import annotations

import argparse

__all__ = ["register"]

SHELLS = ("bash", "zsh", "fish", "tcsh", "powershell")


def _completion(args: argparse.Namespace) -> int:
    from argcomplete.shell_integration import shellcode

    print(shellcode(["asgard"], shell=args.shell), end="")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    completion = commands.add_parser("completion", help="print a shell's completion script")
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(handler=_completion)
