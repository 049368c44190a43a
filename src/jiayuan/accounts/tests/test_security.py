"""Log-in throttling, password hashing, CSP and production settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jiayuan.accounts.testing import TEST_PASSWORD


def _post_login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_passwords_are_hashed_with_argon2(make_user):
    user = make_user("a1", "district_analyst")
    assert user.password.startswith("argon2")


def test_correct_password_logs_in(make_user, client):
    make_user("a1", "district_analyst")
    res = _post_login(client, "a1", TEST_PASSWORD)
    assert res.status_code == 302
    assert client.get("/api/v1/accounts/me").json()["username"] == "a1"


def test_repeated_failures_lock_the_account_even_for_the_right_password(make_user, client):
    make_user("a1", "district_analyst")
    for _ in range(4):
        assert _post_login(client, "a1", "wrong-password").status_code == 200
    # The fifth failure locks the (username, address) pair ...
    assert _post_login(client, "a1", "wrong-password").status_code == 429
    # ... and then even the right password is refused until the cool-off ends.
    res = _post_login(client, "a1", TEST_PASSWORD)
    assert res.status_code == 429
    assert client.get("/api/v1/accounts/me").status_code == 401


def test_pages_carry_a_strict_content_security_policy(client, db):
    res = client.get("/login/")
    csp = res.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert res.headers["X-Frame-Options"] == "DENY"


def test_csrf_is_enforced_on_the_session_api(tiny, make_user):
    from django.test import Client

    user = make_user("n11", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    res = client.patch(f"/api/v1/registry/compounds/{tiny.compounds['S1N1C1'].code}",
                       data='{"households": 1}', content_type="application/json")
    assert res.status_code in (401, 403)
    tiny.compounds["S1N1C1"].refresh_from_db()
    assert tiny.compounds["S1N1C1"].households == 100


def _run_settings(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("JIAYUAN_")}
    full.update(env)
    full["DJANGO_SETTINGS_MODULE"] = "jiayuan.config.settings"
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                          text=True, timeout=60, check=False)


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    res = _run_settings({"JIAYUAN_ENV": "production", "JIAYUAN_VAR_DIR": str(tmp_path)},
                        "import django; django.setup()")
    assert res.returncode != 0
    assert "JIAYUAN_SECRET_KEY" in res.stderr


@pytest.mark.parametrize("name,expected", [
    ("SESSION_COOKIE_SECURE", True), ("CSRF_COOKIE_SECURE", True),
    ("SECURE_HSTS_SECONDS", 31536000), ("DEMO_MODE", False),
])
def test_production_settings_are_secure(tmp_path, name, expected):
    res = _run_settings(
        {"JIAYUAN_ENV": "production", "JIAYUAN_SECRET_KEY": "x" * 60, "JIAYUAN_DEMO": "1",
         "JIAYUAN_VAR_DIR": str(tmp_path)},
        f"from django.conf import settings; print(repr(settings.{name}))",
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == repr(expected)
