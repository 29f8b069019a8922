"""python -m bench: every benchmark in turn."""
import sys

from bench import seed

sys.exit(seed.main(sys.argv[1:]))
