"""A spec's `auth` as route guards: 401 with `WWW-Authenticate` for a missing or bad token, 403
for a caller without the role, both in servicekit's one error shape.

A guard is a FastAPI dependency, but FastAPI reads, size-checks and parses a route's body before it
solves any dependency, so a caller refused only there would first learn the body's limit and
schema from a 413, 415 or 422. servicekit.strict_json's route class therefore checks the caller
first (`RouteGuard.check_before_body`), and the dependency hands on that answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from fastapi import HTTPException, Request
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel

from servicekit.auth.tokens import InvalidToken, Principal, TokenVerifier
from servicekit.logs import bind_log_fields

CallerCheck = Callable[[Request], Awaitable[Principal | None]]

# Where a request's scope keeps each guard's answer once checked: {guard: caller}.
_CHECKED_CALLERS = "servicekit.checked_callers"


class RouteGuard:
    """The FastAPI dependency giving a route its verified caller (None: public and no token)."""

    def __init__(self, check: CallerCheck) -> None:
        self._check = check

    async def check_before_body(self, request: Request) -> None:
        """Refuses the caller (401, 403) or keeps it for the dependency of this request."""
        request.scope.setdefault(_CHECKED_CALLERS, {})[self] = await self._check(request)

    async def __call__(self, request: Request) -> Principal | None:
        checked = request.scope.get(_CHECKED_CALLERS)
        if checked is not None and self in checked:
            return checked[self]  # the token is verified once per request
        return await self._check(request)


class Authenticator:
    """Makes the guard of each route from its spec's access rule."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier
        self._challenge = f'Bearer realm="{verifier.audience}"'

    def guard(
        self, *, public: bool = False, roles: Iterable[str] = (), owner: str | None = None
    ) -> RouteGuard:
        """The guard of a route with this rule.

        roles: any of them admits the caller; owner: the path parameter that admits a caller
        whose subject equals its value; neither: any signed-in caller.
        """
        required = frozenset(roles)
        any_signed_in = not required and owner is None

        async def principal(request: Request) -> Principal | None:
            # As FastAPI's HTTPBearer reads the header (not used itself: a dependency of its own,
            # which FastAPI would resolve on every request); another scheme counts as no token.
            scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
            if scheme.lower() != "bearer" or not token:
                if public:
                    return None
                raise self._unauthorized("this operation needs a bearer token", None)
            try:
                caller = self.verifier.verify(token)
            except InvalidToken as problem:
                raise self._unauthorized(str(problem), "invalid_token") from None
            bind_log_fields(subject=caller.subject)  # the token itself is never logged
            if public or any_signed_in or caller.roles & required:
                return caller
            if owner is not None and request.path_params.get(owner) == caller.subject:
                return caller
            needed = [f"one of the roles: {', '.join(sorted(required))}"] if required else []
            if owner is not None:
                needed.append(f"a caller whose subject is the {owner}")
            raise HTTPException(403, f"this operation needs {', or '.join(needed)}")

        return RouteGuard(principal)

    def _unauthorized(self, detail: str, error: str | None) -> HTTPException:
        challenge = self._challenge if error is None else f'{self._challenge}, error="{error}"'
        return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def forbid_admin_only_fields(
    principal: Principal | None, body: BaseModel, admin_only: Iterable[str]
) -> None:
    """403 when a caller without the admin role sets a field only admins may set."""
    if principal is not None and principal.is_admin:
        return
    given = sorted(set(admin_only) & body.model_fields_set)
    if given:
        raise HTTPException(403, f"only an admin may set {', '.join(given)}")
