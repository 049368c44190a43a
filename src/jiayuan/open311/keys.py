"""API keys for POST requests. Keys live in configuration, not in the database (yet).

``JIAYUAN_OPEN311_KEYS`` (a Django setting, else the environment variable of that name) is a
comma-separated list; each entry is a plain key or a SHA-256 hex digest of one (optionally
written ``sha256:<hex>``), so a deployment need not keep keys in clear. ``demo-open311-key`` is
valid only while ``settings.DEMO_MODE`` is on.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from django.conf import settings

from jiayuan.open311.errors import Open311Error

DEMO_KEY = "demo-open311-key"
_HEX64 = re.compile(r"^(sha256:)?([0-9a-fA-F]{64})$")


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def key_id(raw: str) -> str:
    """A short, stable, non-secret name for a key (for idempotency scopes and rate limits)."""
    return digest(raw)[:12]


def _configured() -> list[str]:
    value = getattr(settings, "JIAYUAN_OPEN311_KEYS", None)
    if value is None:
        value = os.environ.get("JIAYUAN_OPEN311_KEYS", "")
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(i).strip() for i in items if str(i).strip()]


def check_api_key(raw: str | None) -> str:
    """The key's id if ``raw`` is a valid key; refuses (403) a missing or unknown key.

    Compares digests in constant time; the demo key counts only in demo mode.
    """
    raw = (raw or "").strip()
    if not raw:
        raise Open311Error(403, "api_key：缺少 API 密钥")
    if raw == DEMO_KEY:
        if getattr(settings, "DEMO_MODE", False):
            return key_id(raw)
        raise Open311Error(403, "api_key：演示密钥只在演示模式下有效")
    presented = digest(raw)
    ok = False
    for entry in _configured():
        m = _HEX64.match(entry)
        expected = m.group(2).lower() if m else digest(entry)
        ok |= hmac.compare_digest(presented, expected)
    if not ok:
        raise Open311Error(403, "api_key：API 密钥无效")
    return key_id(raw)
