"""Users for tests."""

from __future__ import annotations

from typing import Any

from jiayuan.accounts.models import User
from jiayuan.accounts.services import create_user

TEST_PASSWORD = "correct-horse-battery-9"  # noqa: S105 - test fixture only


def make_user(username: str, role: str, *areas: Any, **extra: Any) -> User:
    return create_user(username=username, password=TEST_PASSWORD, role=role,
                       areas=list(areas), **extra)
