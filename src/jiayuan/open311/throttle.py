"""Cheap fixed-window rate limits (Django cache): POSTs per API key and client address, and
wrong API keys per client address.

``JIAYUAN_OPEN311_POSTS_PER_MINUTE`` (default 30; 0 turns it off). A client address that sent
``JIAYUAN_OPEN311_KEY_FAILURES`` wrong or missing keys (default 10; 0 turns it off) within a
window of ``JIAYUAN_OPEN311_KEY_FAILURE_WINDOW`` seconds (default 600) is refused (429) until
the window ends, whatever key it sends: guessing keys is slowed to a crawl. With several web
processes and the default per-process cache the limits are per process; a shared cache
(Django's ``CACHES``) makes them global.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from jiayuan.open311.errors import Open311Error

DEFAULT_PER_MINUTE = 30
DEFAULT_KEY_FAILURES = 10
DEFAULT_KEY_FAILURE_WINDOW = 600  # seconds


def _count(slot: str, timeout: int) -> int:
    """Add one to the counter ``slot``; returns the new count."""
    cache.add(slot, 0, timeout=timeout)
    try:
        return int(cache.incr(slot))
    except ValueError:  # evicted between add and incr
        cache.set(slot, 1, timeout=timeout)
        return 1


def check_rate(key_id: str, address: str) -> None:
    """Count one POST; refuses (429) past the limit for the current minute."""
    limit = int(getattr(settings, "JIAYUAN_OPEN311_POSTS_PER_MINUTE", DEFAULT_PER_MINUTE))
    if limit <= 0:
        return
    count = _count(f"open311:posts:{key_id}:{address}:{int(time.time() // 60)}", 120)
    if count > limit:
        raise Open311Error(429, f"提交过于频繁：每分钟最多 {limit} 次，请稍后再试")


def _failure_slot(address: str) -> tuple[str, int] | None:
    limit = int(getattr(settings, "JIAYUAN_OPEN311_KEY_FAILURES", DEFAULT_KEY_FAILURES))
    window = int(getattr(settings, "JIAYUAN_OPEN311_KEY_FAILURE_WINDOW",
                         DEFAULT_KEY_FAILURE_WINDOW))
    if limit <= 0 or window <= 0:
        return None
    return f"open311:key-failures:{address}:{int(time.time() // window)}", limit


def check_key_failures(address: str) -> None:
    """Refuses (429) an address that sent too many wrong API keys in the current window;
    called before the key is checked, so a blocked address learns nothing about its guess."""
    slot = _failure_slot(address)
    if slot is None:
        return
    name, limit = slot
    if int(cache.get(name) or 0) >= limit:
        raise Open311Error(429, "API 密钥错误次数过多，请稍后再试")


def record_key_failure(address: str) -> None:
    """Count one wrong or missing API key from ``address``."""
    slot = _failure_slot(address)
    if slot is not None:
        window = int(getattr(settings, "JIAYUAN_OPEN311_KEY_FAILURE_WINDOW",
                             DEFAULT_KEY_FAILURE_WINDOW))
        _count(slot[0], window * 2)
