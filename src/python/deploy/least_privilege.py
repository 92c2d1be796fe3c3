"""Least privilege on the running stack, seen from inside a backend task: Redis refuses a client
without the password, the backend's database role is no superuser and cannot create a table, and
the task's environment holds only the backend's own variables."""

from __future__ import annotations

import json
from typing import Any

from deploy.docker_cli import docker

# Runs in the backend's image, with its packages (redis, asyncpg) and its secrets.
_PROBE = """
import asyncio, json, redis, asyncpg

def refused(attempt):
    try:
        attempt()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None

async def database():
    url = open("/run/secrets/database_url").read().strip()
    connection = await asyncpg.connect(url)
    try:
        superuser = await connection.fetchval(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        try:
            await connection.execute("CREATE TABLE least_privilege_probe (id int)")
            create = None
        except asyncpg.PostgresError as error:
            create = f"{type(error).__name__}: {error}"
        return superuser, create
    finally:
        await connection.close()

superuser, create = asyncio.run(database())
print(json.dumps({
    "redis_without_password": refused(lambda: redis.Redis(host="redis", socket_timeout=5).ping()),
    "database_superuser": superuser,
    "create_table": create,
    # The server's own (this probe's Python adds LC_CTYPE to its own environment).
    "variables": sorted(item.split("=", 1)[0]
                        for item in open("/proc/1/environ").read().split("\\0") if item),
}))
"""


def probe(container: str) -> dict[str, Any]:
    return json.loads(docker("exec", container, "/app/bin/python", "-c", _PROBE))


def problems(found: dict[str, Any], allowed_variables: set[str]) -> list[str]:
    """What `probe` found that least privilege forbids, in words."""
    wrong = []
    if not found["redis_without_password"] or "auth" not in found["redis_without_password"].lower():
        wrong.append(f"Redis without a password answered: {found['redis_without_password']}")
    if found["database_superuser"]:
        wrong.append("the backend's database role is a superuser")
    if found["create_table"] is None:
        wrong.append("the backend's database role created a table")
    extra = sorted(set(found["variables"]) - allowed_variables)
    if extra:
        wrong.append(f"the backend's environment has variables not its own: {', '.join(extra)}")
    return wrong
