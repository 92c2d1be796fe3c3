"""The backend's tables, all in one metadata (Alembic's target): those generated from its domains'
`storage:` (each module declares its tables on the service's metadata when imported), the
event outbox and the idempotency keys. Alembic migrations (migrations/versions) create them."""

from __future__ import annotations

from generated.backend.storage import users
from servicekit.events.outbox import outbox_table
from servicekit.idempotency import idempotency_table
from servicekit.persistence import service_base

STORED_DOMAINS = (users,)
METADATA = service_base("backend").metadata
# Events waiting for Redis (servicekit.events.outbox).
EVENT_OUTBOX = outbox_table(METADATA)
# The answers kept for requests that carried an Idempotency-Key (servicekit.idempotency).
IDEMPOTENCY_KEYS = idempotency_table(METADATA)
