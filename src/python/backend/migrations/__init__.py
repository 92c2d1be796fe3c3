"""Alembic migrations of the backend's database (env.py, versions/); see backend.alembic_cli."""
