"""A worker process for the durability tests: counts each `Numbered` event it handles in Redis.

A negative number stands for an event whose handler takes its worker down, every time.

python -m servicekit.events.counting_worker REDIS_URL STREAM_PREFIX CONSUMER
"""

from __future__ import annotations

import asyncio
import os
import sys

from pydantic import BaseModel
from redis.asyncio import Redis

from servicekit.events import DeliveryPolicy, EventBus, EventChannel


class Numbered(BaseModel):
    n: int


def numbered_channel(prefix: str) -> EventChannel[Numbered]:
    return EventChannel(name="numbered", stream=f"{prefix}.numbered", message=Numbered)


MAX_FAILURES = 3


def effects_key(prefix: str) -> str:
    """A hash of event number -> how many times its effect was applied."""
    return f"{prefix}.effects"


async def run(url: str, prefix: str, consumer: str) -> None:
    redis = Redis.from_url(url)
    bus = EventBus(
        url,
        consumer=consumer,
        policy=DeliveryPolicy(max_failures=MAX_FAILURES, claim_idle=0.5, claim_interval=0.1),
    )

    async def count(event: Numbered) -> None:
        if event.n < 0:
            os._exit(1)
        # A little work, so that a kill often lands mid-message.
        await asyncio.sleep(0.001)
        await redis.hincrby(effects_key(prefix), str(event.n), 1)  # type: ignore[misc]

    bus.subscribe(numbered_channel(prefix), "counters", count)
    await bus.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(run(*sys.argv[1:4]))
