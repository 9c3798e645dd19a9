#!/usr/bin/env bash
# Refreshes the lock files in requirements/ from pyproject.toml: every package `make run`
# and `make test` install, each pinned with the hashes of its files on PyPI, so a fresh
# machine installs exactly what was tested.
#
# Usage: make lock               keep every pin, add or drop only what pyproject.toml changed
#        make lock UPGRADE=1     move every pin to the newest release the ranges allow
#
# The resolver (uv) is itself installed from a hashed lock, in a throwaway venv.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
tool="$(mktemp -d)"
trap 'rm -rf "$tool"' EXIT
"$python" -m venv "$tool/venv"
"$tool/venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
    -r requirements/lock-tool.txt
compile() {
    "$tool/venv/bin/uv" pip compile --quiet --generate-hashes --python-version 3.11 \
        --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" \
        ${UPGRADE:+--upgrade} "$@"
}
compile requirements/bootstrap.in -o requirements/bootstrap.txt
compile requirements/lock-tool.in -o requirements/lock-tool.txt
compile pyproject.toml -o requirements/run.txt
compile pyproject.toml --extra dev -o requirements/dev.txt
echo "requirements/ refreshed; review 'git diff requirements/' and run make test"
