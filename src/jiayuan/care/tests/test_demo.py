"""The demo register: every neighbourhood gets people, visits and a plausible schedule."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jiayuan.care.demo import generate_demo_care, wipe_demo_care
from jiayuan.care.models import ElderLivingAlone, RiskAssessment, VisitLog
from jiayuan.care.services.register import id_number_valid

pytestmark = pytest.mark.django_db


def test_demo_register_covers_every_neighbourhood_with_visits(tiny, people):
    counts = generate_demo_care(seed=7, share=0.2)
    assert counts["elders"] == ElderLivingAlone.objects.count() > 0
    assert set(ElderLivingAlone.objects.values_list("neighbourhood__code", flat=True)) == {
        n.code for n in tiny.neighbourhoods.values()}
    assert VisitLog.objects.count() == counts["visits"] > 0
    assert RiskAssessment.objects.count() == counts["elders"]
    now = timezone.now()
    for e in ElderLivingAlone.objects.all():
        assert e.path == e.entrance.path and id_number_valid(e.id_number)
        assert e.next_visit_due is not None and e.birth_year <= now.year - 65
    staffed = ElderLivingAlone.objects.filter(neighbourhood=tiny.neighbourhoods["S1N1"])
    assert all(e.visitor == people["staff"] for e in staffed)
    wipe_demo_care()
    assert not ElderLivingAlone.objects.exists()


def test_demo_refuses_a_silly_share(tiny):
    with pytest.raises(ValueError):
        generate_demo_care(share=0.5)
