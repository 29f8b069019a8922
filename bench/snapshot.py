"""Every figure every page shows, for a set of filter combinations and roles, as one JSON file.

A refactoring that must not change behaviour is checked by taking a snapshot before and after,
on each database, and comparing them:

    python -m bench.snapshot take --db URL --out before.json
    ... change the code ...
    python -m bench.snapshot take --db URL --out after.json
    python -m bench.snapshot compare before.json after.json

The pages run through Streamlit's AppTest (as tests/pagetools.py runs them), so what is
recorded is what a user sees: metrics, tables, charts' data, texts.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from queries.viewer import Viewer

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")
PAGES = ["overview", "topics", "territories", "executors", "speed", "cases", "methodology"]
COMBOS = [  # URL parameters (the public filter contract of dashboard/urlstate.py)
    {},
    {"from": "2021-01-01", "to": "2021-03-31"},
    {"from": "2020-12-03", "to": "2021-04-14", "territory": "50701000"},
    {"from": "2021-02-01", "to": "2021-04-14", "topic": "covid.vaccination", "source": "vk"},
    {"from": "2021-01-10", "to": "2021-04-10", "territory": "50701000", "topic": "roads", "source": "pos"},
    {"from": "2021-03-01", "to": "2021-03-31", "lang": "en"},
]


def viewers(url: str) -> list[Viewer]:
    from sqlalchemy import text

    from queries.db import make_engine
    engine = make_engine(url)
    with engine.connect() as c:
        org = c.execute(text("select organization_id from appeals group by organization_id"
                             " order by count(*) desc limit 1")).scalar_one()
    engine.dispose()
    return [Viewer("snap-analyst", "analyst"), Viewer("snap-press", "press"),
            Viewer("snap-head", "head", territories=("50701000",)),
            Viewer("snap-executor", "executor", executors=(int(org),))]


def _node(el) -> dict | None:
    kind = type(el).__name__
    proto = getattr(el, "proto", None)
    if kind == "Dataframe":
        return {"t": kind, "v": el.value.astype(str).to_dict(orient="split")}
    if kind == "Metric":
        return {"t": kind, "v": [el.label, el.value, str(proto.delta) if proto is not None else ""]}
    if kind in ("Markdown", "Caption", "Title", "Header", "Subheader", "Text", "Warning", "Info", "Error",
                "Success", "Latex", "Code"):
        return {"t": kind, "v": str(el.value)}
    if proto is not None and hasattr(proto, "spec") and proto.spec:  # plotly charts
        spec = json.loads(proto.spec)
        return {"t": "chart", "v": _strip(spec.get("data", []))}
    if kind in ("Selectbox", "Radio", "Multiselect", "TextInput", "DateInput", "Toggle", "Checkbox"):
        try:
            value = str(el.value)
        except ValueError:  # a widget whose value AppTest cannot format back: its stored index
            value = str(getattr(proto, "default", ""))
        return {"t": kind, "v": [str(getattr(el, "label", "")), value]}
    return None


def _strip(value):
    """Chart data without the ids plotly and Streamlit make up per run."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("uid",)}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    return value


def _walk(block, out: list) -> None:
    for child in getattr(block, "children", {}).values():
        node = _node(child)
        if node is not None:
            out.append(node)
        _walk(child, out)


def page_elements(url: str, as_of: str, page: str, viewer: Viewer, params: dict) -> list[dict]:
    from streamlit.testing.v1 import AppTest

    from tests.pagetools import ensure_user
    ensure_user(url, viewer)
    os.environ["DATABASE_URL"] = url
    os.environ["PULSE_AS_OF"] = as_of
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["viewer"] = viewer
    for k, v in params.items():
        at.query_params[k] = v
    if page != "overview":  # before the first run: a second run trips AppTest on a formatted selectbox
        at.switch_page(str(ROOT / "pages" / f"{page}.py"))
    at.run()
    out: list[dict] = []
    if at.exception:
        return [{"t": "exception", "v": [str(e.value) for e in at.exception]}]
    _walk(at.main, out)
    _walk(at.sidebar, out)
    return out


def take(url: str, as_of: str, out: Path) -> int:
    result = {}
    for viewer in viewers(url):
        combos = COMBOS if viewer.role == "analyst" else COMBOS[:3]
        for page in PAGES:
            for i, params in enumerate(combos):
                key = f"{viewer.role}|{page}|{i}"
                result[key] = page_elements(url, as_of, page, viewer, params)
                print(key, len(result[key]), file=sys.stderr)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
    return 0


def compare(a: Path, b: Path) -> int:
    left, right = (json.loads(p.read_text(encoding="utf-8")) for p in (a, b))
    differ = 0
    for key in sorted(set(left) | set(right)):
        x, y = left.get(key), right.get(key)
        if x != y:
            differ += 1
            print(f"DIFFERS {key}")
            for i, (u, v) in enumerate(zip(x or [], y or [])):
                if u != v:
                    print(f"  element {i}: {json.dumps(u, ensure_ascii=False)[:300]}")
                    print(f"         vs {json.dumps(v, ensure_ascii=False)[:300]}")
                    break
            else:
                print(f"  lengths {len(x or [])} vs {len(y or [])}")
    elements = sum(len(v) for v in left.values())
    print(f"{len(left)} page runs, {elements} elements; {differ} page runs differ")
    return 1 if differ else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.snapshot", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="action", required=True)
    t = sub.add_parser("take")
    t.add_argument("--db", required=True)
    t.add_argument("--as-of", default=dt.datetime(2021, 4, 14, 17, tzinfo=dt.timezone.utc).isoformat())
    t.add_argument("--out", required=True, type=Path)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = p.parse_args(argv)
    if args.action == "take":
        return take(args.db, args.as_of, args.out)
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
