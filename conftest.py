"""Shared pytest fixtures. Domain tests sit beside their code under src/jiayuan/<app>/tests/."""

from __future__ import annotations

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests must not fail for being slow on a loaded CI machine: no per-example deadline.
hypothesis_settings.register_profile("jiayuan", deadline=None)
hypothesis_settings.load_profile("jiayuan")


@pytest.fixture(autouse=True)
def _reinstall_default_categories(request, django_db_blocker):
    """Transactional tests end by emptying every table, including the category dictionary a
    data migration installed; put it back so later tests see what a real database has."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or
                                     (len(marker.args) > 0 and marker.args[0])))
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        with django_db_blocker.unblock():
            from jiayuan.cases.models import Category
            from jiayuan.cases.services.catalogue import install_default_categories

            install_default_categories(Category)


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
