"""`python -m seed.importer`: the importer's former name, kept as an alias of `python -m ingest` for
one release (README, "Everyday commands"); it says so on every run."""
from __future__ import annotations

import sys

from ingest.__main__ import main

if __name__ == "__main__":
    print("python -m seed.importer is now python -m ingest; this alias goes in the next release", file=sys.stderr)
    sys.exit(main(prog="python -m seed.importer"))
