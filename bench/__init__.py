"""Benchmarks: the `manage.py bench_*` commands (this app, installed by the dev and test settings
only) and the stand-alone scripts beside them (`python bench/<name>.py`). Figures: README.md."""
