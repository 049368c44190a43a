"""A cheap fixed-window rate limit for POSTs, per API key and client address (Django cache).

``JIAYUAN_OPEN311_POSTS_PER_MINUTE`` (default 30; 0 turns it off). With several web processes
and the default per-process cache the limit is per process; a shared cache makes it global.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from jiayuan.open311.errors import Open311Error

DEFAULT_PER_MINUTE = 30


def check_rate(key_id: str, address: str) -> None:
    """Count one POST; refuses (429) past the limit for the current minute."""
    limit = int(getattr(settings, "JIAYUAN_OPEN311_POSTS_PER_MINUTE", DEFAULT_PER_MINUTE))
    if limit <= 0:
        return
    slot = f"open311:posts:{key_id}:{address}:{int(time.time() // 60)}"
    cache.add(slot, 0, timeout=120)
    try:
        count = cache.incr(slot)
    except ValueError:  # evicted between add and incr
        cache.set(slot, 1, timeout=120)
        count = 1
    if count > limit:
        raise Open311Error(429, f"提交过于频繁：每分钟最多 {limit} 次，请稍后再试")
