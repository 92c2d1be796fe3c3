from __future__ import annotations

from deploy.least_privilege import problems

REFUSED = {
    "redis_without_password": "AuthenticationError: Authentication required.",
    "database_superuser": False,
    "create_table": "InsufficientPrivilegeError: permission denied for schema public",
    "variables": ["HOME", "PATH", "REDIS_URL"],
}


def test_a_locked_down_task_has_no_problem() -> None:
    assert problems(REFUSED, {"HOME", "PATH", "REDIS_URL"}) == []


def test_every_privilege_too_many_is_named() -> None:
    found = {
        "redis_without_password": None,
        "database_superuser": True,
        "create_table": None,
        "variables": ["HOME", "TELEGRAM_BOT_TOKEN"],
    }
    assert problems(found, {"HOME"}) == [
        "Redis without a password answered: None",
        "the backend's database role is a superuser",
        "the backend's database role created a table",
        "the backend's environment has variables not its own: TELEGRAM_BOT_TOKEN",
    ]
