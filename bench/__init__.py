"""Benchmarks: `python -m bench` (all) or `python -m bench.seed`. They print tables and assert nothing."""
