"""One batch's processed marks and acknowledgement, on a Redis connection of their own.

Each mark is written the moment its handler returns, and its reply read only at the end of the
batch: a worker killed mid-batch leaves at most the event in hand handled but unmarked, as one
round trip per event would, without waiting for Redis between events. The batch's entries are
then acknowledged with one XACK; an entry marked but not yet acknowledged when its worker dies is
redelivered, found marked and skipped.
"""

from __future__ import annotations

from types import TracebackType

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection


class Acknowledgements:
    """`async with Acknowledgements(...) as acks:` mark(...) and ack(...) entries; sent at exit."""

    def __init__(self, redis: Redis, stream: str, group: str, mark_ttl: int) -> None:
        self._redis = redis
        self._stream = stream
        self._group = group
        self._mark_ttl = mark_ttl
        self._entry_ids: list[bytes] = []
        self._unread_replies = 0
        self._connection: AbstractConnection | None = None

    async def __aenter__(self) -> Acknowledgements:
        return self

    async def mark(self, processed_key: str, entry_id: bytes) -> None:
        """Records the entry's event as handled now; acknowledges the entry at the batch's end."""
        connection = await self._connected()
        await connection.send_packed_command(
            connection.pack_command("SET", processed_key, "1", "EX", self._mark_ttl),
            check_health=False,
        )
        self._unread_replies += 1
        self._entry_ids.append(entry_id)

    def ack(self, entry_id: bytes) -> None:
        """Acknowledges the entry at the batch's end (a duplicate: its event is marked already)."""
        self._entry_ids.append(entry_id)

    async def __aexit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._connection is None and not self._entry_ids:
            return
        connection = await self._connected()
        try:
            # Even after an error: what was handled and marked need not be handled again.
            if self._entry_ids:
                await connection.send_command("XACK", self._stream, self._group, *self._entry_ids)
                self._unread_replies += 1
            for _ in range(self._unread_replies):
                await connection.read_response()
        except BaseException:
            await connection.disconnect()  # replies left unread: not reusable
            raise
        finally:
            await self._redis.connection_pool.release(connection)

    async def _connected(self) -> AbstractConnection:
        if self._connection is None:
            self._connection = await self._redis.connection_pool.get_connection()
        return self._connection
