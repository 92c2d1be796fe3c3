"""Stream entries in FastStream 0.5's JSON format, read with the standard library alone.

`{"__data__": '{"data": "<payload JSON>", "headers": {"message_id": ...}}'}`. Reading it here
rather than through FastStream's parser keeps FastStream out of tools such as the dead-letter
tool, which then start in a fraction of the time.
"""

from __future__ import annotations

import json
from typing import Any

DATA_KEY = b"__data__"  # faststream.redis.message.bDATA_KEY

# Set by publishers that chose the event id, and so may publish the same event again.
REUSABLE_ID_HEADER = "reusable_event_id"


def decode_entry(entry_id: bytes, fields: dict[bytes, bytes]) -> tuple[bytes, dict[str, Any], str]:
    """The payload, headers and event id of an entry.

    An entry in another format gives its raw data, or nothing, as payload and no headers, as
    FastStream's parser does: validation judges it. Its event id is its entry id.
    """
    data = fields.get(DATA_KEY, b"")
    try:
        envelope = json.loads(data)
        payload, headers = envelope["data"].encode(), envelope["headers"]
        if not isinstance(headers, dict):
            raise TypeError(headers)
    except Exception:  # noqa: BLE001  # anything but the format: the raw entry
        payload, headers = data, {}
    return payload, headers, headers.get("message_id") or entry_id.decode()
