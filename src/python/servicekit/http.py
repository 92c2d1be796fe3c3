"""The base of generated service clients: httpx, with the retries of `servicekit.http_retry`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from servicekit.http_retry import RetryableAnswer, RetryPolicy, retried_answer
from servicekit.tracing import traced


def new_idempotency_key() -> str:
    """A key for one logical call: its retries send it again, so the service does the call once."""
    return str(uuid.uuid4())


class ApiError(Exception):
    """A non-2xx answer that retrying cannot fix (or still 502/503/504 after the last retry)."""

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
        max_wait: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        """`timeout`: seconds to connect and for each read or write; `retries`, `backoff`,
        `max_wait`: see `servicekit.http_retry.RetryPolicy`; `auth` signs each request, e.g.
        servicekit.auth.client.ServiceTokenAuth."""
        self._client = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, transport=traced(transport), auth=auth
        )
        self._retry = RetryPolicy(retries, backoff, max_wait)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Sends the request, again while the retry policy allows; returns a 2xx answer, raises
        ApiError for any other, or the transport's error."""
        # Unset optional query parameters are left out rather than sent empty.
        query = {name: value for name, value in (params or {}).items() if value is not None}
        try:
            async for attempt in self._retry.retrying(method, headers):
                with attempt:
                    response = await self._client.request(
                        method, path, params=query, json=json, headers=headers
                    )
                    if retried_answer(response):
                        raise RetryableAnswer(response)
        except RetryableAnswer as answer:
            response = answer.response
        if not response.is_success:
            raise ApiError(response.status_code, _detail(response))
        return response

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
