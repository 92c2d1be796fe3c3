"""A stream's dead letters: list them, or put them back on the stream once their cause is fixed.

    dead-letters.pex REDIS_URL STREAM             # list
    dead-letters.pex REDIS_URL STREAM --replay    # re-append, then remove

(`pants package src/python/servicekit/events:dead-letters`; in an image, `python -m
servicekit.events.dead_letters`.)

A replayed event keeps its id and is marked reusable: a group that handled it before skips it, so
only the group that gave up on it handles it again (within DeliveryPolicy.processed_ttl).
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from servicekit.events.envelope import DATA_KEY, REUSABLE_ID_HEADER, decode_entry, encode_binary

_DEAD_LETTER_FIELDS = (b"dead_letter_error", b"dead_letter_group", b"dead_letter_entry_id")


@dataclass(frozen=True)
class DeadLetter:
    entry_id: bytes  # in the dead-letter stream
    event_id: str
    group: str
    error: str
    fields: dict[bytes, bytes]  # the entry as it was on its stream


async def dead_letters(redis: Redis, stream: str) -> list[DeadLetter]:
    """The dead letters of `stream`, oldest first."""
    letters = []
    for entry_id, fields in await redis.xrange(f"{stream}.dead"):
        original = {
            name: value for name, value in fields.items() if name not in _DEAD_LETTER_FIELDS
        }
        letters.append(
            DeadLetter(
                entry_id=entry_id,
                event_id=decode_entry(fields[b"dead_letter_entry_id"], original)[2],
                group=fields[b"dead_letter_group"].decode(),
                error=fields[b"dead_letter_error"].decode(errors="replace"),
                fields=original,
            )
        )
    return letters


async def replay(redis: Redis, stream: str) -> int:
    """Appends each dead letter of `stream` to it again and removes it; returns how many."""
    letters = await dead_letters(redis, stream)
    for letter in letters:
        async with redis.pipeline(transaction=True) as pipeline:
            pipeline.xadd(stream, _reusable(letter.fields))
            pipeline.xdel(f"{stream}.dead", letter.entry_id)
            await pipeline.execute()
    return len(letters)


def _reusable(fields: dict[bytes, bytes]) -> dict[FieldT, EncodableT]:
    """The entry with its event id marked reusable, so that groups look it up before handling."""
    entry: dict[FieldT, EncodableT] = {name: value for name, value in fields.items()}
    payload, headers, _ = decode_entry(b"0-0", fields)
    if not headers:  # not FastStream's format: as it was
        return entry
    entry[DATA_KEY] = encode_binary(payload, {**headers, REUSABLE_ID_HEADER: "1"})
    return entry


async def _main(url: str, stream: str, replay_them: bool) -> None:
    redis = Redis.from_url(url)
    try:
        if replay_them:
            print(f"replayed {await replay(redis, stream)} dead letter(s) onto {stream}")
            return
        letters = await dead_letters(redis, stream)
        for letter in letters:
            print(f"{letter.entry_id.decode()}  event {letter.event_id}  group {letter.group}")
            print(f"    {letter.error}")
        print(f"{len(letters)} dead letter(s) in {stream}.dead")
    finally:
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("redis_url")
    parser.add_argument("stream", help="the event's stream, e.g. events.user_registered")
    parser.add_argument("--replay", action="store_true", help="put them back on the stream")
    arguments = parser.parse_args()
    asyncio.run(_main(arguments.redis_url, arguments.stream, arguments.replay))


if __name__ == "__main__":
    main()
