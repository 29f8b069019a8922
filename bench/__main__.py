"""python -m bench: every benchmark in turn (seeding, then import). Each prints its own table."""
import sys

from bench import importer, seed

code = seed.main(sys.argv[1:])
code = code or importer.main([])
sys.exit(code)
