"""Reference data and the demo-data generator for the appeals database (`python -m seed`)."""
