"""python -m bench: every benchmark in turn (seeding, import, page data). Each prints its own table."""
import sys

from bench import importer, pages, seed

code = seed.main([])
code = code or importer.main([])
code = code or pages.main([])
sys.exit(code)
