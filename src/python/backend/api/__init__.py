"""HTTP wiring: FastAPI dependencies for the generated routers."""
