"""One batch's processed marks and acknowledgement, on a Redis connection of their own.

Each mark is written the moment its handler returns, and its reply read only at the end of the
batch: a worker killed mid-batch leaves at most the event in hand handled but unmarked, as one
round trip per event would, without waiting for Redis between events. The batch's entries are
then acknowledged with one XACK; an entry marked but not yet acknowledged when its worker dies is
redelivered, found marked and skipped. Should the connection fail meanwhile, everything is sent
again at the end through the client, which reconnects and retries (SET and XACK are idempotent).
"""

from __future__ import annotations

from types import TracebackType

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError


class Acknowledgements:
    """`async with Acknowledgements(...) as acks:` mark(...) and ack(...) entries; sent at exit."""

    def __init__(self, redis: Redis, stream: str, group: str, mark_ttl: int) -> None:
        self._redis = redis
        self._stream = stream
        self._group = group
        self._mark_ttl = mark_ttl
        self._marks: list[str] = []
        self._entry_ids: list[bytes] = []
        self._connection: AbstractConnection | None = None
        self._connection_failed = False

    async def __aenter__(self) -> Acknowledgements:
        return self

    async def mark(self, processed_key: str, entry_id: bytes) -> None:
        """Records the entry's event as handled now; acknowledges the entry at the batch's end."""
        self._marks.append(processed_key)
        self._entry_ids.append(entry_id)
        if self._connection_failed:
            return
        try:
            connection = await self._connected()
            await connection.send_packed_command(
                connection.pack_command("SET", processed_key, "1", "EX", self._mark_ttl),
                check_health=False,
            )
        except (RedisError, OSError):
            self._connection_failed = True

    def ack(self, entry_id: bytes) -> None:
        """Acknowledges the entry at the batch's end (a duplicate: its event is marked already)."""
        self._entry_ids.append(entry_id)

    async def __aexit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Even after an error: what was handled and marked need not be handled again.
        if self._entry_ids and not self._connection_failed:
            try:
                connection = await self._connected()
                await connection.send_command("XACK", self._stream, self._group, *self._entry_ids)
                for _ in range(len(self._marks) + 1):
                    await connection.read_response()
            except (RedisError, OSError):
                self._connection_failed = True
        if self._connection is not None:
            if self._connection_failed:
                await self._connection.disconnect()  # replies left unread: not reusable
            await self._redis.connection_pool.release(self._connection)
        if self._connection_failed:
            async with self._redis.pipeline(transaction=False) as pipeline:
                for processed_key in self._marks:
                    pipeline.set(processed_key, "1", ex=self._mark_ttl)
                pipeline.xack(self._stream, self._group, *self._entry_ids)
                await pipeline.execute()

    async def _connected(self) -> AbstractConnection:
        if self._connection is None:
            self._connection = await self._redis.connection_pool.get_connection()
        return self._connection
