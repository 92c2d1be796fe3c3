"""The standard-library reader and writer of `envelope` agree with FastStream's own format code,
so a FastStream release that changes its format fails here rather than in a running worker."""

from __future__ import annotations

import json

import pytest
from faststream.redis.parser.binary import BinaryMessageFormatV1

from servicekit.events.envelope import DATA_KEY, decode_entry, encode_binary

pytestmark = pytest.mark.asyncio

EVENT_ID = "7f0c2a52-8e0b-4c1e-9d4f-3b1e0e6f9a10"


async def test_an_entry_faststream_publishes_is_read_with_its_payload_headers_and_event_id() -> (
    None
):
    data = await BinaryMessageFormatV1.encode(
        message={"n": 7},
        reply_to=None,
        headers={"message_id": EVENT_ID, "reusable_event_id": "1"},
        correlation_id=EVENT_ID,
    )
    payload, headers, event_id = decode_entry(b"1-0", {DATA_KEY: data})
    assert (json.loads(payload), event_id) == ({"n": 7}, EVENT_ID)
    assert headers == BinaryMessageFormatV1.parse(data)[1]
    assert headers["reusable_event_id"] == "1"


async def test_an_entry_written_here_is_what_faststream_reads() -> None:
    headers = {
        "message_id": EVENT_ID,
        "correlation_id": EVENT_ID,
        "content-type": "application/json",
    }
    data = encode_binary(b'{"n":7}', headers)
    assert BinaryMessageFormatV1.parse(data) == (b'{"n":7}', headers)
    assert decode_entry(b"1-0", {DATA_KEY: data}) == (b'{"n":7}', headers, EVENT_ID)


async def test_an_entry_faststream_0_5_wrote_is_still_read() -> None:
    """Streams keep entries across the upgrade: 0.5 wrote JSON with the payload as a string."""
    data = json.dumps(
        {"data": '{"n": 7}', "headers": {"message_id": EVENT_ID, "correlation_id": EVENT_ID}}
    ).encode()
    assert decode_entry(b"1-0", {DATA_KEY: data}) == (
        b'{"n": 7}',
        {"message_id": EVENT_ID, "correlation_id": EVENT_ID},
        EVENT_ID,
    )


@pytest.mark.parametrize(
    "data",
    [
        BinaryMessageFormatV1.IDENTITY_HEADER,  # the magic number alone
        BinaryMessageFormatV1.IDENTITY_HEADER + b"\x00\x01\x00\x00\x00\x12\x00\x00\x00\x20\x00\x05",
        b"not json",
    ],
)
async def test_a_truncated_or_foreign_entry_is_its_raw_bytes_under_its_entry_id(
    data: bytes,
) -> None:
    assert decode_entry(b"1-0", {DATA_KEY: data}) == (data, {}, "1-0")
