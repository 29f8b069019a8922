"""Summary tables: pre-aggregated cells of the appeals, and the reads that answer KPI queries from them.

lattice: the cells' nodes and grains, and how a period is cut into them · state: whether the
summaries may answer · cells: cells computed from appeal rows · codec: integer keys, grouped sums,
packed histograms · store: writes, swaps, a delta's merge · build: build, refresh, deltas ·
read: counts, pending, histograms and series of a cohort · percentiles: from histograms ·
`python -m queries.summaries`: the command line. docs/summaries.md explains the design.
"""
from queries.summaries.build import apply_delta, build, refresh
from queries.summaries.cells import appeal_rows
from queries.summaries.percentiles import (coded_percentile_arrays, hist_percentile_arrays, hist_percentiles,
                                          value_percentile_arrays)
from queries.summaries.read import (count_arrays, counts, hist_arrays, histogram, pending, pending_arrays, series,
                                   series_supported)
from queries.summaries.state import disabled, eligible, is_ready, usable
from queries.summaries.store import OutOfStep, analyze

__all__ = ["apply_delta", "build", "refresh", "appeal_rows", "hist_percentiles", "value_percentile_arrays",
           "coded_percentile_arrays", "counts", "histogram", "pending",
           "series", "series_supported", "count_arrays", "hist_arrays",
           "hist_percentile_arrays", "pending_arrays", "disabled", "eligible", "is_ready", "usable", "OutOfStep", "analyze"]
