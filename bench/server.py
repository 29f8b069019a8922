"""Concurrent users against a running Streamlit server: N scripted sessions over its websocket.

python -m bench.server --db URL [--sessions 20] [--rounds 3] [--think 5-15] [--as-of ISO]

Starts `streamlit run dashboard/server.py` on the database (XSRF off, headless; a user `bench` is
added to the database's users), then runs N sessions at once. Each session signs in through
the sign-in form, then visits every data page in turn with its own random filters (the same
distribution as bench.pages), waiting a random think time between visits, as a person reading
the page would. A visit is timed from the request to the server's "script finished" message:
the page's whole server run, queries and rendering to protobuf included; the browser's drawing
is not (a browser per user would need a machine per user). Streamlit's cache is on, as in
production: sessions that happen to ask for the same figures share them.
Before the sessions, one untimed session visits every page once: the server is running, not
starting (a cold process's first runs import the pages' libraries and read the reference lists).

First, on just-started servers, the first visitor's sign-in form and the overview after signing
in are timed: arriving 3 s after the server answers, and arriving once its warm-up
(dashboard.warm) has said it is done, three starts each. Prints page, visits, p50, p95, max
(ms), the exceptions shown, and the server process's peak resident memory (sampled every 0.2 s). Writes bench/server_results.json. Asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from bench.pages import filter_pool, p95, random_filters

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("server_results.json")
PAGES = ["", "topics", "territories", "executors", "speed", "cases"]
USER, PASSWORD = "bench", "bench-password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def start_server(url: str, as_of: str | None, log=subprocess.DEVNULL) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url)
    if as_of:
        env["PULSE_AS_OF"] = as_of
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "server.py"),
                             "--server.port", str(port), "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.enableXsrfProtection", "false",
                             "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc, f"ws://127.0.0.1:{port}/_stcore/stream"
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("streamlit did not start")


class Session:
    """One browser tab, as the server sees it: a websocket, rerun requests, forward messages."""

    def __init__(self, ws):
        self.ws = ws
        self.widgets: dict[str, str] = {}  # label → widget id, from the last run's elements
        self.exceptions: list[str] = []

    async def run(self, page: str, query: str = "", widgets=None) -> bool:
        """Request a run of `page`; wait for its end. True when it finished normally."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        for wid, kind, value in widgets or ():
            w = msg.rerun_script.widget_states.widgets.add()
            w.id = wid
            setattr(w, kind, value)
        await self.ws.send(msg.SerializeToString())
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(self.ws.recv(), 300))
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                sub = getattr(el, el.WhichOneof("type"))
                if el.WhichOneof("type") == "exception":
                    self.exceptions.append(f"{sub.type}: {sub.message[:200]}")
                if getattr(sub, "id", "") and getattr(sub, "label", ""):
                    self.widgets[sub.label] = sub.id
            elif kind == "script_finished":
                if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun(): the next run follows on the same request
                return fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY

    async def sign_in(self) -> None:
        await self.run("")
        ids = self.widgets
        await self.run("", widgets=[(ids["Имя пользователя"], "string_value", USER),
                                    (ids["Пароль"], "string_value", PASSWORD),
                                    (ids["Войти"], "trigger_value", True)])


async def _first_page(ws_url: str) -> tuple[float, float]:
    """A fresh server's first visitor: (seconds from opening the app to the sign-in form, seconds
    from submitting it to the overview drawn)."""
    import websockets

    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
        s = Session(ws)
        started = time.perf_counter()
        await s.run("")
        form = time.perf_counter() - started
        ids = s.widgets
        started = time.perf_counter()
        await s.run("", widgets=[(ids["Имя пользователя"], "string_value", USER),
                                 (ids["Пароль"], "string_value", PASSWORD), (ids["Войти"], "trigger_value", True)])
        return form, time.perf_counter() - started


def first_page(url: str, as_of: str, tries: int = 3) -> dict:
    """The first visitor of a just-started server (each try a new server): the sign-in form, and
    the overview after signing in; medians in ms. Twice per start: a visitor arriving 3 s after
    the server answers (the warm-up, dashboard.warm, may still be running), and on a second
    server, one arriving once the warm-up has said it is done (its seconds reported too)."""
    forms, pages, warmed_pages, warm_s = [], [], [], []
    for _ in range(tries):
        for after_warm_up in (False, True):
            with tempfile.TemporaryFile("w+") as log:
                proc, ws_url = start_server(url, as_of, log)
                started = time.perf_counter()
                try:
                    if after_warm_up:
                        warm_s.append(_warm_up_seconds(log, started))
                    else:
                        time.sleep(3)  # a user arrives a few seconds after the start
                    form, page = asyncio.run(_first_page(ws_url))
                    (warmed_pages if after_warm_up else pages).append(page)
                    forms.append(form)
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
    return {"sign_in_form_ms": round(statistics.median(forms) * 1000),
            "first_page_ms": round(statistics.median(pages) * 1000),
            "first_page_after_warm_up_ms": round(statistics.median(warmed_pages) * 1000),
            "warm_up_s": round(statistics.median(warm_s), 1), "tries": tries}


def _warm_up_seconds(log, started: float, timeout: float = 300) -> float:
    """Wait for the server's "first page warmed in N s" line; N."""
    while time.perf_counter() - started < timeout:
        log.seek(0)
        found = re.search(r"first page warmed in ([\d.]+) s", log.read())
        if found:
            return float(found.group(1))
        time.sleep(0.2)
    raise SystemExit("the server did not finish its warm-up")


async def _user(ws_url: str, seed: int, rounds: int, think: tuple[float, float], codes, today,
                timings: dict, errors: list) -> None:
    import websockets

    from dashboard.urlstate import to_params

    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, think[1]))  # people do not arrive on the same millisecond
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
        s = Session(ws)
        await s.sign_in()
        for _ in range(rounds):
            for page in PAGES:
                query = urlencode(to_params(random_filters(rng, today, codes)))
                started = time.perf_counter()
                ok = await s.run(page, query)
                timings.setdefault(page or "overview", []).append(time.perf_counter() - started)
                if not ok:
                    errors.append(f"{page or 'overview'}: the run did not finish normally")
                await asyncio.sleep(rng.uniform(*think))
        errors.extend(s.exceptions)


async def _measure(ws_url: str, pid: int, sessions: int, rounds: int, think, codes, today) -> tuple[dict, list, float]:
    timings: dict[str, list[float]] = {}
    errors: list[str] = []
    peak = 0.0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_mb(pid))
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    # a running server: one untimed visit of every page first, so that the first sessions do not
    # queue behind the process's imports and reference reads (each first visit took 1.5-1.8 s)
    await _user(ws_url, -1, 1, (0.0, 0.0), codes, today, {}, errors)
    await asyncio.gather(*[_user(ws_url, i, rounds, think, codes, today, timings, errors) for i in range(sessions)])
    done.set()
    await sampler
    return timings, errors, peak


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True, help="database URL (the benchmark's large databases)")
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3, help="visits of every page per session")
    p.add_argument("--think", default="5-15", help="seconds between a session's visits, min-max")
    p.add_argument("--as-of", default=None, help="PULSE_AS_OF for the server (default: an hour after the last appeal)")
    args = p.parse_args(argv)
    think = tuple(float(x) for x in args.think.split("-"))
    from queries.db import make_engine
    from queries.migrate import upgrade
    from queries import schema
    from queries.users import add_user

    engine = make_engine(args.db)
    upgrade(engine)
    codes, now, today = filter_pool(engine)
    with engine.begin() as conn:  # a fresh analyst account for the sessions
        conn.execute(schema.users.delete().where(schema.users.c.username == USER))
        add_user(conn, USER, PASSWORD, "analyst")
    engine.dispose()
    first = first_page(args.db, args.as_of or now.isoformat())
    print(f"a just-started server's first visitor (median of {first['tries']} starts): sign-in form "
          f"{first['sign_in_form_ms']} ms; the overview after signing in {first['first_page_ms']} ms arriving 3 s "
          f"after the start, {first['first_page_after_warm_up_ms']} ms after the warm-up ({first['warm_up_s']} s)")
    proc, ws_url = start_server(args.db, args.as_of or now.isoformat())
    try:
        idle = _rss_mb(proc.pid)
        started = time.perf_counter()
        timings, errors, peak = asyncio.run(_measure(ws_url, proc.pid, args.sessions, args.rounds, think,
                                                     codes, today))
        wall = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    rows = [{"page": page, "visits": len(ts), "p50_ms": round(statistics.median(ts) * 1000),
             "p95_ms": round(p95(ts) * 1000), "max_ms": round(max(ts) * 1000)} for page, ts in timings.items()]
    print(f"\n{args.sessions} sessions × {args.rounds} rounds × {len(PAGES)} pages in {wall:.0f} s, "
          f"think time {think[0]:g}–{think[1]:g} s; server memory {idle:.0f} MB at start, peak {peak:.0f} MB")
    print("| page | visits | p50, ms | p95, ms | max, ms |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['page']} | {r['visits']} | {r['p50_ms']:,} | {r['p95_ms']:,} | {r['max_ms']:,} |")
    for e in sorted(set(errors)):
        print(f"  error ({errors.count(e)}×): {e}")
    RESULTS.write_text(json.dumps({
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "sessions": args.sessions,
        "rounds": args.rounds, "think_s": think, "wall_s": round(wall, 1), "server_rss_start_mb": round(idle),
        "server_rss_peak_mb": round(peak), "errors": len(errors), "first_page_after_sign_in": first,
        "pages": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
