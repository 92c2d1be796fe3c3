"""A service's own calls to another, signed with a service token it mints and renews itself, with
its own key (AUTH_SIGNING_KEY), which the called service admits for the role service only."""

from __future__ import annotations

import time
from collections.abc import Generator

import httpx

from servicekit.auth.keys import SigningKey
from servicekit.auth.tokens import mint_token

SERVICE = "service"


class ServiceTokenAuth(httpx.Auth):
    """httpx auth for the generated clients: `Bearer <token>` of role service, subject the
    calling service, audience the called one; renewed when less than a tenth of its life is left."""

    def __init__(
        self, key: SigningKey, service: str, audience: str, ttl_seconds: int = 900
    ) -> None:
        self.key = key
        self.service = service
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._token = ""
        self._renew_at = 0.0

    def token(self) -> str:
        now = time.monotonic()
        if now >= self._renew_at:
            self._token = mint_token(
                self.key, self.service, [SERVICE], self.audience, self.ttl_seconds
            )
            self._renew_at = now + self.ttl_seconds * 0.9
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request
