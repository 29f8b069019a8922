"""Seeding speed (rows per second) and peak memory, SQLite and PostgreSQL, at the given scales.

python -m bench.seed [--scales 1,10] [--backends sqlite,postgresql] [--pg postgresql://postgres@127.0.0.1/postgres]

Each seeding runs `python -m seed` in a child process (the benchmark's seed, data up to the
benchmark's day), so that its peak resident memory is its own: the goal is a bounded peak at any
scale (the summaries are built a month at a time).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from queries.config import normalise_url

RESULTS = Path(__file__).with_name("seed_results.json")
ROOT = Path(__file__).resolve().parent.parent
SEED = 90210  # the benchmark's data seed (bench.__main__.BENCH_SEED): not the tests' default
AS_OF = dt.datetime(2026, 11, 29, tzinfo=dt.timezone(dt.timedelta(hours=7))).astimezone(dt.timezone.utc)


def bench_one(url: str, scale: float) -> dict:
    until = (AS_OF.astimezone(dt.timezone(dt.timedelta(hours=7))) - dt.timedelta(days=1)).date().isoformat()
    child = subprocess.Popen([sys.executable, "-m", "seed", "--db", url, "--scale", f"{scale:g}", "--seed", str(SEED),
                              "--until", until, "--quiet"], stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peak = _watch_peak(child.pid)
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    done = re.search(r"Seeded ([\d,]+) appeals and ([\d,]+) events in ([\d.]+) s", err)
    if child.returncode or not done:
        raise SystemExit(f"seeding {url} failed:\n{err}")
    appeals, events = (int(done.group(i).replace(",", "")) for i in (1, 2))
    seconds = float(done.group(3))
    return {"appeals": appeals, "events": events, "seconds": round(seconds, 1),
            "rows_per_s": round((appeals + events) / seconds), "peak_rss_mb": round((peak[0] or usage.ru_maxrss) / 1024)}


def _watch_peak(pid: int) -> list[int]:
    """The child's own peak resident memory in KB (VmHWM, read until it exits), in a list that a
    thread keeps up to date. wait4's ru_maxrss is no measure here: Linux carries the parent's
    peak over into a forked child's, and `make bench`'s process is large by then (DuckDB's buffers)."""
    peak = [0]

    def watch() -> None:
        status = Path(f"/proc/{pid}/status")
        while True:
            try:
                text_ = status.read_text()
            except OSError:
                return
            line = next((x for x in text_.splitlines() if x.startswith("VmHWM:")), None)
            if line is None:  # a zombie: the process has ended
                return
            peak[0] = max(peak[0], int(line.split()[1]))
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()
    return peak


# Disk a seeded database takes per appeal, with its events, indexes and summaries (10.1 M appeals:
# 26 GB on PostgreSQL; 1.0 M: 2.5 GB in SQLite), and the headroom its build needs beyond that.
BYTES_PER_APPEAL = {"postgresql": 2_700, "sqlite": 2_600}
APPEALS_PER_SCALE = 1_010_000


def room(backend: str, scale: float, where: Path | None) -> str | None:
    """Why a seeding at `scale` cannot run here (not enough disk where its files go), or None."""
    if where is None or not where.exists():
        return None
    need = BYTES_PER_APPEAL[backend] * APPEALS_PER_SCALE * scale * 1.1
    free = shutil.disk_usage(where).free
    if free >= need:
        return None
    return f"needs about {need / 1e9:.0f} GB of disk, {free / 1e9:.0f} GB free at {where}"


def pg_data_directory(admin) -> Path | None:
    with admin.connect() as c:
        try:
            return Path(c.execute(text("show data_directory")).scalar())
        except Exception:  # noqa: BLE001 - a server elsewhere, or no right to ask: not checked
            return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__)
    p.add_argument("--scales", default="1,10,20")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                   help="an admin URL; a temporary database is created and dropped")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--large-backends", default="postgresql",
                   help="the backends of scales of 10 and more (the production database by default)")
    args = p.parse_args(argv)
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="pulse-bench-"))
    admin = create_engine(normalise_url(args.pg), isolation_level="AUTOCOMMIT")
    pg_dir = pg_data_directory(admin)
    for scale in [float(s) for s in args.scales.split(",")]:
        for backend in (args.backends if scale < 10 else args.large_backends).split(","):
            why = room(backend, scale, tmp if backend == "sqlite" else pg_dir)
            if why:
                print(f"{backend:<11} scale {scale:>4g}: not measured, {why}", file=sys.stderr)
                rows.append({"backend": backend, "scale": scale, "skipped": why})
                continue
            if backend == "sqlite":
                path = tmp / f"seed-{scale:g}.sqlite"
                r = bench_one(f"sqlite:///{path}", scale)
                path.unlink()
                for extra in tmp.glob(f"{path.name}-*"):
                    extra.unlink()
            else:
                name = f"pulse_bench_{uuid.uuid4().hex[:8]}"
                with admin.connect() as c:
                    c.execute(text(f'create database "{name}"'))
                try:
                    r = bench_one(args.pg.rsplit("/", 1)[0] + f"/{name}", scale)
                finally:
                    with admin.connect() as c:
                        c.execute(text(f'drop database if exists "{name}" with (force)'))
            rows.append({"backend": backend, "scale": scale, **r})
            print(f"{backend:<11} scale {scale:>4g}: {r['appeals']:>11,} appeals {r['events']:>11,} events "
                  f"{r['seconds']:>7.1f} s {r['rows_per_s']:>9,} rows/s {r['peak_rss_mb']:>6,} MB", file=sys.stderr)
    print("\n| backend | scale | appeals | events | seconds | rows/s | peak memory, MB |\n|---|---|---|---|---|---|---|")
    for r in rows:
        if "skipped" in r:
            print(f"| {r['backend']} | {r['scale']:g} | not measured: {r['skipped']} | | | | |")
            continue
        print(f"| {r['backend']} | {r['scale']:g} | {r['appeals']:,} | {r['events']:,} | {r['seconds']} | "
              f"{r['rows_per_s']:,} | {r['peak_rss_mb']:,} |")
    RESULTS.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
