"""Bringing real appeals in: another system's CSV or XLSX export through a mapping (`python -m ingest`),
the reference data (territories, topics, executors), bulk writing, and the project's own export.

readers → validate → (rejects) → upsert, driven by run; mapping: the TOML mapping format;
workbook: XLSX size checks before parsing; reference: the reference tables from ingest/data;
writer: bulk loading (COPY on PostgreSQL); export: `python -m ingest.export`.
"""
