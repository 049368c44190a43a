"""Shared pytest fixtures. Domain tests sit beside their code under src/jiayuan/<app>/tests/."""

from __future__ import annotations

import pytest


@pytest.fixture
def tiny(db):
    """A hand-made district whose geometry and codes are known (see registry.testing)."""
    from jiayuan.registry.testing import make_tiny_district

    return make_tiny_district()


@pytest.fixture
def make_user(db):
    from jiayuan.accounts.testing import make_user as _make

    return _make


@pytest.fixture
def login(client):
    """Log a user in to the Django test client and return the client."""
    def _login(user):
        client.force_login(user)
        return client

    return _login
