"""A just-started server's first page: what it needs, read in the background at start-up.

The first visitor of a fresh process would otherwise wait for the pages' libraries to be imported
(SciPy's statistics alone take over a second), the reference lists and the overview's figures for
the default period. `start()` runs `first_page` in a daemon thread once the server is up; the
server answers from the first moment (a visitor meanwhile simply computes what is not cached
yet). The figures land in the reads' shared cache (dashboard.data: keyed by role and scope, not by
user), here for the region-wide view that the minister and the analysts open on; every other
view at least finds the libraries loaded and the database's pages in memory.

The reads below are the overview's for its default filters: tests/test_warm.py runs the overview
after `first_page` and counts the statements it still sends (none), so that a change to the page
that this list misses is seen.
"""
from __future__ import annotations

import datetime as dt
import importlib
import logging
import sys
import threading
import time

log = logging.getLogger(__name__)


def first_page(now: dt.datetime | None = None) -> float:
    """Import what the pages use and read the overview's figures for the default filters as the
    region-wide viewer. Returns seconds."""
    started = time.perf_counter()
    for module in ("plotly.graph_objects", "reports.spikes"):  # the charts; SciPy's distributions (spikes)
        importlib.import_module(module)
    from dashboard import data, geomap
    from dashboard.drill import grain_for
    from dashboard.urlstate import default_filters
    from queries.localtime import local_date
    from queries.spikes import last_whole_week
    from queries.viewer import Viewer

    geomap.boundaries()
    url = data.database_url()
    if not data.schema_ready(url):
        return time.perf_counter() - started
    data.territories(url), data.topics(url), data.executors(url)
    now = now or data.now()
    today = local_date(now)
    viewer = Viewer("", "analyst")
    f = default_filters(today)
    data.kpi(url, viewer, f, now)
    data.kpi_previous(url, viewer, f, now)
    data.totals(url, viewer)
    data.flow(url, viewer, f, grain_for(f))
    data.kpi(url, viewer, f, now, "source", percentiles=False)
    for period, group in ((f, "category"), (f, "municipality"), (f.previous(), "municipality"), (f, "topic"),
                          (f.previous(), "topic")):
        data.kpi(url, viewer, period, now, group, percentiles=False)
    data.territory_league(url, viewer, f, now)
    data.spikes(url, viewer, last_whole_week(today), "category")
    return time.perf_counter() - started


def start() -> threading.Thread:
    """first_page in a daemon thread; a failure is logged, never raised (the server runs on)."""
    def run() -> None:
        try:
            # on the server's standard error, where bench.server waits for it
            print(f"pulse: first page warmed in {first_page():.1f} s", file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - a warm-up that fails leaves the first visitor to compute
            log.warning("warming the first page failed", exc_info=True)

    thread = threading.Thread(target=run, name="pulse-warm", daemon=True)
    thread.start()
    return thread
