"""An in-memory implementation of the generated shop CustomersController, for tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from fastapi import HTTPException


class InMemoryCustomers:
    """Customers in a dict; a customer named "fail" makes create_customer raise. The routes pass
    the verified caller as `principal`; the subscriber calls without one."""

    def __init__(self, models: Any) -> None:
        self.models = models
        self.rows: Dict[uuid.UUID, Any] = {}
        self.calls: List[str] = []

    async def create_customer(self, body: Any, principal: Any = None) -> Any:
        self.calls.append("create_customer")
        if body.name == "fail":
            raise RuntimeError("refused")
        row = self.models.CustomerRead(
            id=uuid.uuid4(), created_at=datetime.now(timezone.utc), **body.model_dump()
        )
        self.rows[row.id] = row
        return row

    async def list_customers(
        self, limit: int, tier: Optional[str], principal: Any = None
    ) -> List[Any]:
        self.calls.append(f"list_customers(limit={limit}, tier={tier})")
        return [row for row in self.rows.values() if tier is None or row.tier == tier][:limit]

    async def get_customer(self, customer_id: uuid.UUID, principal: Any = None) -> Any:
        self.calls.append("get_customer")
        if customer_id not in self.rows:
            raise HTTPException(404, "no such customer")
        return self.rows[customer_id]

    async def update_customer(
        self, body: Any, customer_id: uuid.UUID, principal: Any = None
    ) -> Any:
        current = await self.get_customer(customer_id)
        self.rows[customer_id] = current.model_copy(update=body.model_dump(exclude_unset=True))
        return self.rows[customer_id]

    async def delete_customer(
        self, customer_id: uuid.UUID, principal: Any = None, if_match: Any = None
    ) -> None:
        self.calls.append(f"delete_customer(if_match={if_match})")
        await self.get_customer(customer_id)
        del self.rows[customer_id]

    async def import_customer(self, body: Any) -> Any:
        self.calls.append("import_customer")
        return await self.create_customer(body)
