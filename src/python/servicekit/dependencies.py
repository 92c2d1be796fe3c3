"""The type of a FastAPI dependency giving a T: a function, coroutine function or generator of one.

Coroutine functions are the ones to write for dependencies that never wait: FastAPI calls them in
the event loop, while it runs a plain function in its thread pool, a thread hop per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar, Union

T = TypeVar("T")

Dependency = Callable[..., Union[T, Awaitable[T], AsyncIterator[T], Iterator[T]]]
