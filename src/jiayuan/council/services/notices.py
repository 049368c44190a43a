"""Tell users about topics without flooding them: at most one notification per user per topic
per hour; what comes in between waits for the hourly digest (``council.mention_digest``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiayuan.cases.models import Notification
from jiayuan.core.notify import notify

QUIET = dt.timedelta(hours=1)
KIND = "council"


def _send(user: Any, message: str) -> None:
    Notification.objects.create(user=user, kind=KIND, message=message[:300])
    phone = user.phone
    transaction.on_commit(lambda: notify(to=phone, text=message, kind=KIND))


def queue(users: list[Any], topic: Any, *, comment: Any = None, reason: str = "mention",
          message: str, now: dt.datetime | None = None) -> int:
    """Record a notice for each user who may see the topic (its council's area, or a member);
    deliver at once unless the user heard about this topic within the hour. Nobody else is
    told anything, not even the title. Returns how many were delivered now."""
    from jiayuan.council import access
    from jiayuan.council.models import Notice

    now = now or timezone.now()
    sent = 0
    for user in {u.pk: u for u in users}.values():
        if not access.can_see(user, topic.council):
            continue
        recent = Notice.objects.filter(user=user, topic=topic,
                                       delivered_at__gte=now - QUIET).exists()
        notice = Notice.objects.create(user=user, topic=topic, comment=comment, reason=reason,
                                       created_at=now)
        if not recent:
            notice.delivered_at = now
            notice.save(update_fields=["delivered_at"])
            _send(user, message)
            sent += 1
    return sent


@transaction.atomic
def deliver_digest(now: dt.datetime | None = None) -> int:
    """One notification per user bundling every pending notice; returns how many were sent."""
    from jiayuan.council.models import Notice

    now = now or timezone.now()
    pending = (Notice.objects.select_for_update().filter(delivered_at__isnull=True)
               .select_related("user", "topic__council"))
    by_user: dict[int, list[Any]] = defaultdict(list)
    for n in pending:
        by_user[n.user_id].append(n)
    from jiayuan.council import access

    for uid, waiting in list(by_user.items()):
        # Who lost access since the notice was queued hears nothing more about those topics.
        seen = [n for n in waiting if access.can_see(n.user, n.topic.council)]
        if len(seen) != len(waiting):
            Notice.objects.filter(pk__in=[n.pk for n in waiting if n not in seen]) \
                .update(delivered_at=now)
        if seen:
            by_user[uid] = seen
        else:
            del by_user[uid]
    for notices in by_user.values():
        titles = sorted({n.topic.title for n in notices})
        shown = "、".join(f"“{t}”" for t in titles[:3]) + ("等" if len(titles) > 3 else "")
        _send(notices[0].user,
              f"理事会摘要：{len(titles)} 个议题有 {len(notices)} 条新动态：{shown}")
        Notice.objects.filter(pk__in=[n.pk for n in notices]).update(delivered_at=now)
    return len(by_user)
