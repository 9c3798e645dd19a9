"""``python -m bench`` runs the benchmarks (see bench/README.md)."""

import sys

print("no benchmark yet: the fan-out benchmarks arrive with issue 6", file=sys.stderr)
