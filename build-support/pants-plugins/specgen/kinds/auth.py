"""Who may call a domain's operations: `config.auth` and an operation's `auth`.

auth: public | user (any signed-in caller) | <role> | [<role>...] | AUTH
AUTH: {roles: [<role>...], owner: <path parameter holding the caller's id>}
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from specgen.checks import Shape, did_you_mean, expect_string, is_snake_case, string_list
from specgen.ir import DEFAULT_ACCESS, Access, Operation
from specgen.yaml_reader import Document, KeyPath

AUTH = Shape(optional=("roles", "owner"))
_PUBLIC, _SIGNED_IN = "public", "user"  # the auth words that are not roles
_HINT = "write public, user (any signed-in caller), a role such as admin, or a list of roles"


def read_access(doc: Document, path: KeyPath, value: Any, owner_allowed: bool) -> Access:
    if isinstance(value, dict):
        AUTH.check(doc, path, value)
        if not owner_allowed and "owner" in value:
            doc.error(
                path + ("owner",),
                "owner names a path parameter, so it belongs to an operation's auth",
                "move it to the operations that take that parameter",
            )
        if "roles" not in value and "owner" not in value:
            doc.error(path, "auth needs roles, owner or both", _HINT)
        roles = _roles(doc, path + ("roles",), value.get("roles", []))
        owner = expect_string(doc, path + ("owner",), value["owner"]) if "owner" in value else None
        return Access(roles=roles, owner=owner)
    if value == _PUBLIC:
        return Access(public=True)
    if value == _SIGNED_IN:
        return Access()
    if value is None or (isinstance(value, list) and not value):
        doc.error(path, "auth is empty", _HINT)
        return DEFAULT_ACCESS
    return Access(roles=_roles(doc, path, value))


def _roles(doc: Document, path: KeyPath, value: Any) -> Tuple[str, ...]:
    """Role names (snake case); `user` alone stands for any signed-in caller: ()."""
    items: List[Tuple[Optional[int], str]] = (
        [(None, value)] if isinstance(value, str) else list(string_list(doc, path, value))
    )
    roles: List[str] = []
    for index, role in items:
        where = path if index is None else path + (index,)
        if role == _PUBLIC:
            doc.error(where, "public cannot be combined with roles", _HINT)
        elif role == _SIGNED_IN:
            if len(items) > 1:
                doc.error(where, "user already admits every signed-in caller", _HINT)
        elif not is_snake_case(role):
            doc.error(where, f"role '{role}' is not a lower snake case name", _HINT)
        elif role not in roles:
            roles.append(role)
    return tuple(roles)


def check_access(doc: Document, path: KeyPath, operation: Operation, declares_auth: bool) -> None:
    """Auth needs a route to guard, and its owner must be one of the route's parameters."""
    if declares_auth and operation.rest is None:
        doc.error(
            path + ("auth",),
            f"operation '{operation.name}' has no rest route, so no caller to check",
            "remove auth: events reach subscribers from the service's own broker",
        )
    owner = operation.access.owner
    if owner is None or operation.rest is None:
        return
    in_path = [param.name for param in operation.params if param.source == "path"]
    if owner not in in_path:
        doc.error(
            path + ("auth", "owner"),
            f"owner '{owner}' is not a path parameter of '{operation.name}'",
            did_you_mean(owner, in_path) or "name the path parameter holding the caller's id",
        )
