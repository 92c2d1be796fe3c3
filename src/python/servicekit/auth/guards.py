"""A spec's `auth` as FastAPI dependencies: 401 with `WWW-Authenticate` for a missing or bad
token, 403 for a caller without the role, both in servicekit's one error shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from servicekit.auth.tokens import InvalidToken, Principal, TokenVerifier

Guard = Callable[..., Awaitable[Principal | None]]

# Reads `Authorization: Bearer <token>`; the guards answer its absence themselves.
_bearer = HTTPBearer(auto_error=False)


class Authenticator:
    """Makes the guard of each route from its spec's access rule."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier
        self._challenge = f'Bearer realm="{verifier.audience}"'

    def guard(
        self, *, public: bool = False, roles: Iterable[str] = (), owner: str | None = None
    ) -> Guard:
        """The dependency giving the route its verified caller (None: public and no token).

        roles: any of them admits the caller (none: any signed-in caller); owner: the path
        parameter that admits a caller whose subject equals its value.
        """
        required = frozenset(roles)

        async def principal(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> Principal | None:
            if credentials is None:
                if public:
                    return None
                raise self._unauthorized("this operation needs a bearer token", None)
            try:
                caller = self.verifier.verify(credentials.credentials)
            except InvalidToken as problem:
                raise self._unauthorized(str(problem), "invalid_token") from None
            if public or not required or caller.roles & required:
                return caller
            if owner is not None and request.path_params.get(owner) == caller.subject:
                return caller
            needed = ", ".join(sorted(required))
            detail = f"this operation needs one of the roles: {needed}"
            if owner is not None:
                detail += f", or a caller whose subject is the {owner}"
            raise HTTPException(403, detail)

        return principal

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
