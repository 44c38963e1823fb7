"""The ingestion and postmortem benchmark; run it with `.venv/bin/python -m bench` (BENCHMARKS.md)."""
