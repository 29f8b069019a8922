"""python -m ingest FILE --mapping MAPPING.toml [--db URL] [--dry-run] [--sheet NAME]

Import appeals from another system's CSV or XLSX export, upserting on external_id
(docs/importing.md describes the mapping format and what an import does).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ingest.mapping import InputError, MappingError, load_mapping
from ingest.progress import text_progress
from ingest.plan import CONFIRM_SHARE
from ingest.run import run_import
from queries.config import ConfigError, resolve_admin_database
from queries.db import check_connection, describe_failure


def main(argv=None, prog: str = "python -m ingest") -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="The mapping format is documented in docs/importing.md.")
    p.add_argument("file", type=Path, help="CSV (UTF-8 or Windows-1251, comma or semicolon) or XLSX")
    p.add_argument("--mapping", required=True, type=Path, help="the TOML mapping of the input's columns and words")
    p.add_argument("--db", metavar="URL", help="database URL (default: DATABASE_URL, secrets.toml, data/appeals.sqlite)")
    p.add_argument("--dry-run", action="store_true", help="validate and count, write nothing but the rejects file")
    p.add_argument("--sheet", help="XLSX sheet name (default: the mapping's, else the first)")
    p.add_argument("--yes", action="store_true",
                   help=f"write a load that changes more than {CONFIRM_SHARE:.0%} of the stored appeals")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    try:
        m = load_mapping(args.mapping)
        url = args.db or resolve_admin_database().url
        engine = check_connection(url)
    except (MappingError, ConfigError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    try:
        s = run_import(engine, args.file, m, dry_run=args.dry_run, sheet=args.sheet, confirm=args.yes,
                       progress=None if args.quiet else text_progress())
    except InputError as exc:
        print(f"{prog}: error: {exc} (nothing was written)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except (OperationalError, InterfaceError) as exc:  # the server went away mid-way: rolled back
        print(f"{prog}: error: {describe_failure(url, exc)} (nothing was written)", file=sys.stderr)
        return 1
    except DBAPIError as exc:  # the database refused a statement: rolled back
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"{prog}: error: the database refused the import: {reason} (nothing was written)", file=sys.stderr)
        return 1
    except Exception as exc:  # a defect of ours, said as one line; the transaction was rolled back
        print(f"{prog}: error: the import failed ({type(exc).__name__}: {exc}); nothing was written. "
              "Please report it with the file's first lines and the mapping.", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"{args.file}: {s.line()}", file=sys.stderr)
    if s.plan is not None and (s.plan.changed or any(f.kept for f in s.plan.fields)):
        print("\n".join(s.plan.lines()), file=sys.stderr)
    if s.rejected:
        print(f"rejected rows, with reasons: {s.rejects_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
