"""Shared pytest fixtures. Domain tests sit beside their code under src/jiayuan/<app>/tests/."""

from __future__ import annotations

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests must not fail for being slow on a loaded CI machine: no per-example deadline.
hypothesis_settings.register_profile("jiayuan", deadline=None)
hypothesis_settings.load_profile("jiayuan")


@pytest.fixture(autouse=True)
def _default_categories(request):
    """Every test with a database starts with the category dictionary a data migration
    installs. Transactional tests end by emptying every table, that dictionary included, and
    pytest-django flushes after this fixture's teardown would run, so the dictionary is put
    back at the start of each test that uses the database, once its database is set up."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db", "live_server"} & set(
            request.fixturenames):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    from jiayuan.cases.models import Category
    from jiayuan.cases.services.catalogue import install_default_categories

    install_default_categories(Category)
    # Routing's per-process caches start empty: a rolled-back test may have filled them.
    from jiayuan.cases.services.routing import clear_caches

    clear_caches()
    yield


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
