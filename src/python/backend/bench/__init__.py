"""Benchmark of the generated backend against a minimal hand-written FastAPI + SQLAlchemy app."""
