"""Periodic work of the council app: the hourly notification digest."""

from __future__ import annotations

from django_tasks import task

from jiayuan.council.services.notices import deliver_digest


@task()
def mention_digest() -> int:
    return deliver_digest()
