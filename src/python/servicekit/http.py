"""The base of generated service clients: httpx with retries on connection errors and 5xx."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

import httpx


class ApiError(Exception):
    """A non-2xx answer that retrying cannot fix (or still 5xx after the last retry)."""

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(f"{status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


class ServiceClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.1,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)
        self._retries = retries
        self._backoff = backoff

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        """Sends the request, retrying up to `retries` times with exponential backoff."""
        # Unset optional query parameters are left out rather than sent empty.
        query = {name: value for name, value in (params or {}).items() if value is not None}
        for attempt in range(self._retries + 1):
            last_attempt = attempt == self._retries
            try:
                response = await self._client.request(method, path, params=query, json=json)
            except httpx.TransportError:
                if last_attempt:
                    raise
            else:
                if response.is_success:
                    return response
                if response.status_code < 500 or last_attempt:
                    raise ApiError(response.status_code, _detail(response))
            await asyncio.sleep(self._backoff * 2**attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> ServiceClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _detail(response: httpx.Response) -> Any:
    """FastAPI's `detail` when the body has one, else the body text."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    return body.get("detail", body) if isinstance(body, dict) else body
