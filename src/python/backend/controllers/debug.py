"""The debug domain (generated.backend.debug.DebugController)."""

from __future__ import annotations

from datetime import datetime, timezone

from generated.models import CommandReceived, CommandReceivedCreate
from servicekit.auth import Principal


class DebugService:
    async def command(self, body: CommandReceivedCreate, principal: Principal) -> CommandReceived:
        """Echoes the command; the router publishes it as command_received."""
        timestamp = body.timestamp or datetime.now(timezone.utc)
        return CommandReceived(**body.model_dump(exclude={"timestamp"}), timestamp=timestamp)
