"""Every REST operation of every spec set, walked through its generated router: a caller its
`auth` does not admit is refused (401 without a valid token, 403 without the role) before the
controller runs; one it admits gets through."""

from __future__ import annotations

import importlib
import re
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from specgen import load
from specgen.generators.conftest import COMPAT, SHOP, TEMPLATE, read_specs
from specgen.ir import Domain, EnumType, Operation, Param, ScalarType

pytest.importorskip("fastapi")
import httpx  # noqa: E402
from fastapi import FastAPI, HTTPException  # noqa: E402

from servicekit.auth import Authenticator, TokenVerifier  # noqa: E402
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer  # noqa: E402
from servicekit.events import nothing_to_commit  # noqa: E402

SPEC_SETS = {"shop": SHOP, "compat": COMPAT, "template": TEMPLATE}
ADMITTED = 418  # what the recording controller answers: the request reached it


class RecordingController:
    """Any operation: records its name, then answers 418."""

    def __init__(self) -> None:
        self.calls: List[str] = []

    def __getattr__(self, name: str) -> Any:
        async def operation(**arguments: Any) -> None:
            self.calls.append(name)
            raise HTTPException(ADMITTED, "admitted")

        return operation


def _sample(param: Param) -> str:
    if isinstance(param.type, EnumType):
        return param.type.values[0]
    assert isinstance(param.type, ScalarType)  # a parameter is a scalar or an enum
    return {"int": "1", "float": "1.5", "bool": "true", "uuid": str(uuid.uuid4())}.get(
        param.type.name, "x"
    )


def _request(domain: Domain, operation: Operation) -> Tuple[str, str, Dict[str, Any]]:
    assert operation.rest is not None
    params = {param.name: _sample(param) for param in operation.params}
    path = re.sub(
        r"\{(\w+)\}", lambda match: params[match.group(1)], domain.prefix + operation.rest.path
    )
    query = {p.name: params[p.name] for p in operation.params if p.source == "query" and p.required}
    options: Dict[str, Any] = {"params": query}
    if operation.input:
        options["json"] = {}  # invalid for most inputs: a 422 also shows the caller got through
    return operation.rest.method, path, options


def _routed_domains(root: Path) -> List[Domain]:
    spec = load(read_specs(root))
    return [d for d in spec.domains if any(op.rest for op in d.operations)]


@pytest.mark.parametrize("spec_set", sorted(SPEC_SETS))
@pytest.mark.asyncio
async def test_every_operation_admits_exactly_the_callers_its_auth_names(
    spec_set: str, generate_into_path: Any
) -> None:
    root = SPEC_SETS[spec_set]
    generate_into_path(root)
    walked = 0
    for domain in _routed_domains(root):
        module = importlib.import_module(f"generated.{domain.service}.{domain.name}")
        controller = RecordingController()
        app = FastAPI()
        auth = Authenticator(TokenVerifier(TEST_KEYS, audience=domain.service))
        app.include_router(module.create_router(lambda _unit: controller, nothing_to_commit, auth))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for operation in (op for op in domain.operations if op.rest):
                access = operation.access
                method, path, options = _request(domain, operation)
                where = f"{spec_set}: {domain.file} {operation.name}"

                async def status(headers: Dict[str, str]) -> int:
                    response = await client.request(method, path, headers=headers, **options)
                    if response.status_code == 401:
                        assert response.headers["www-authenticate"].startswith("Bearer"), where
                    return response.status_code

                calls = len(controller.calls)
                anonymous = await status({})
                wrong_audience = await status(bearer("elsewhere", "admin"))
                # Refused callers never reach the controller.
                assert len(controller.calls) - calls == (anonymous == ADMITTED), where
                signed_in = await status(bearer(domain.service, "user", subject="nobody"))
                refused = not access.public and bool(access.roles)
                assert anonymous != 401 if access.public else anonymous == 401, where
                assert wrong_audience == 401, where
                assert (signed_in == 403) == refused, where
                for role in access.roles:
                    admitted = await status(bearer(domain.service, "user", roles=[role]))
                    assert admitted in (ADMITTED, 422), where
                walked += 1
    assert walked >= 5
