"""The demo data: the scenario of ЦУР НСО and its generator, seeded into a database (`python -m seed`)."""
