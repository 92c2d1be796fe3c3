"""The service registry (`services.yml`), scaffolding of new services from `templates/<type>/`, and
the generated sections of the Compose and Caddy files. Plain Python: the `pants_services` backend
runs it inside Pants (Python 3.9), its tests run it with pytest."""
