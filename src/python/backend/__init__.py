"""backend: the service that owns the database and serves the REST API its domain specs declare."""
