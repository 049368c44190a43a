"""Background work of the care register, registered as a periodic job of the worker.

``care.rescore`` once a day: ages move people across age bands, so every active person is
rescored; a rise in level opens a care task (joined to the open one, if any).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from jiayuan.core.periodic import register

RESCORE_EVERY = timedelta(days=1)


def rescore_all() -> int:
    """Rescore every active person; returns how many rose a level."""
    from jiayuan.care import risk
    from jiayuan.care.models import ElderLivingAlone
    from jiayuan.care.services.scoring import rescore
    from jiayuan.care.services.tasks import raise_task

    now = timezone.now()
    rose = 0
    ids = list(ElderLivingAlone.objects.filter(active=True).values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            elder = ElderLivingAlone.objects.select_for_update(skip_locked=True).filter(
                pk=pk).first()
            if elder is None:
                continue
            before, after = rescore(elder, at=now, cause="daily")
            elder.save(update_fields=["risk_level", "risk_score", "risk_reasons",
                                      "next_visit_due"])
            if after.rank > before.rank:
                rose += 1
                raise_task(elder=elder, kind="risk_rise", at=now,
                           reason=f"风险从{risk.LEVEL_LABELS[before]}升至"
                                  f"{risk.LEVEL_LABELS[after]}")
    return rose


@task()
def rescore() -> int:
    return rescore_all()


register("care.rescore", every=RESCORE_EVERY, task=rescore)
