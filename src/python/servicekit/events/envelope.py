"""Stream entries in FastStream's message formats, read with the standard library alone.

FastStream 0.6+ writes one field, `__data__`, in its binary format (`BinaryMessageFormatV1`): a
magic number, version 1, the offsets of the headers and the payload, then the headers as
length-prefixed strings and the payload. Entries that FastStream 0.5 wrote are JSON,
`{"data": "<payload JSON>", "headers": {...}}`, and are still read (streams keep them across an
upgrade). Reading them here rather than through FastStream's parser keeps FastStream out of tools
such as the dead-letter tool, which then start in a fraction of the time.
"""

from __future__ import annotations

import json
import struct
from typing import Any

DATA_KEY = b"__data__"  # faststream.redis.message.bDATA_KEY

# Set by publishers that chose the event id, and so may publish the same event again.
REUSABLE_ID_HEADER = "reusable_event_id"

# faststream.redis.parser.binary.BinaryMessageFormatV1
_BINARY_MAGIC = b"\x89BIN\x0d\x0a\x1a\x0a"
_BINARY_PREAMBLE = struct.Struct(">8sHII")  # magic, version, headers at, payload at
_LENGTH = struct.Struct(">H")


def decode_entry(entry_id: bytes, fields: dict[bytes, bytes]) -> tuple[bytes, dict[str, Any], str]:
    """The payload, headers and event id of an entry.

    An entry in another format gives its raw data, or nothing, as payload and no headers, as
    FastStream's parser does: validation judges it. Its event id is its entry id.
    """
    data = fields.get(DATA_KEY, b"")
    try:
        payload, headers = _binary(data) if data.startswith(_BINARY_MAGIC) else _json(data)
    except Exception:  # noqa: BLE001  # anything but the format: the raw entry
        payload, headers = data, {}
    return payload, headers, headers.get("message_id") or entry_id.decode()


def encode_binary(payload: bytes, headers: dict[str, str]) -> bytes:
    """`payload` and `headers` in FastStream's binary format, as its publisher writes them."""
    encoded = b"".join(
        _LENGTH.pack(len(text)) + text
        for name, value in headers.items()
        for text in (name.encode(), value.encode())
    )
    headers_at = _BINARY_PREAMBLE.size
    payload_at = headers_at + _LENGTH.size + len(encoded)
    preamble = _BINARY_PREAMBLE.pack(_BINARY_MAGIC, 1, headers_at, payload_at)
    return preamble + _LENGTH.pack(len(headers)) + encoded + payload


def _binary(data: bytes) -> tuple[bytes, dict[str, Any]]:
    _, version, headers_at, payload_at = _BINARY_PREAMBLE.unpack_from(data)
    if version != 1:
        raise ValueError(f"binary message format version {version}")
    (count,) = _LENGTH.unpack_from(data, headers_at)  # headers: a count, then name/value pairs
    headers: dict[str, Any] = {}
    offset = headers_at + _LENGTH.size
    for _ in range(count):
        name, offset = _string(data, offset)
        headers[name], offset = _string(data, offset)
    return data[payload_at:], headers


def _string(data: bytes, offset: int) -> tuple[str, int]:
    (length,) = _LENGTH.unpack_from(data, offset)
    start = offset + _LENGTH.size
    if start + length > len(data):
        raise ValueError("truncated header")
    return data[start : start + length].decode(), start + length


def _json(data: bytes) -> tuple[bytes, dict[str, Any]]:
    envelope = json.loads(data)
    payload, headers = envelope["data"].encode(), envelope["headers"]
    if not isinstance(headers, dict):
        raise TypeError(headers)
    return payload, headers
