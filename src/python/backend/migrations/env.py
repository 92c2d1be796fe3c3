"""Alembic environment of the backend: its tables (backend.tables) are the target."""

from __future__ import annotations

from backend.tables import METADATA
from servicekit.migrations import run_env

run_env(METADATA)
