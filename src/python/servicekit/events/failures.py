"""How a handler says why it failed; the bus treats any other exception as transient.

- `PermanentFailure`: the event can never be handled (a chat that does not exist): it goes to the
  dead letters at once, with the reason.
- `RetryAfter`: the other side asked us to wait (Telegram's 429 `retry_after`): the event is
  handled again after that time, and the attempt does not count toward `max_failures`.
- anything else: retried with exponential backoff, each attempt counted toward `max_failures`.
"""

from __future__ import annotations


class PermanentFailure(Exception):
    """The event can never be handled: dead-letter it now, with this exception as the reason."""


class RetryAfter(Exception):
    """Handle the event again after `seconds`; this attempt does not count as a failure."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
