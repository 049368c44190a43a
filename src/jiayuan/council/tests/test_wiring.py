"""Wiring and the smaller paths: periodic digest job, home tile, registration, rejection,
comment photos."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from jiayuan.core.errors import ValidationFailed
from jiayuan.council.models import Comment, Registration
from jiayuan.council.progress import ProgressError
from jiayuan.council.services import meetings as ms
from jiayuan.council.services import projects as ps
from jiayuan.council.services.topics import raise_topic


def test_the_digest_job_and_the_tile_are_registered():
    from jiayuan.core.periodic import _REGISTRY
    from jiayuan.web.home import _tiles

    assert _REGISTRY["council.mention_digest"].every == dt.timedelta(hours=1)
    assert _tiles["council.home"].url_name == "council:index"


def test_registration_once_and_not_after_the_meeting(env):
    m = ms.schedule_meeting(env.council, actor=env.staff, kind="evaluation", title="评议会",
                            starts_at=timezone.now() + dt.timedelta(days=2))
    ms.register(m, actor=env.liaison)
    ms.register(m, actor=env.liaison)
    assert Registration.objects.filter(meeting=m).count() == 1
    ms.hold_meeting(m, actor=env.staff, minutes="已评议")
    with pytest.raises(ValidationFailed):
        ms.register(m, actor=env.bystander)


def test_a_rejected_grant_cannot_be_spent(env):
    p = ps.create_project(env.council, actor=env.staff, title="x")
    ps.credit_fund(env.council, actor=env.staff, amount="100")
    g = ps.reject_grant(ps.apply_grant(p, actor=env.staff, amount="50"), actor=env.staff,
                        reason="不符合条件")
    assert g.status == "rejected"
    with pytest.raises(ProgressError) as err:
        ps.spend(g, actor=env.staff, amount="10", receipt="R1")
    assert err.value.code == "invalid_state"


def test_a_comment_with_a_photo(env, client, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)}}}
    t, _ = raise_topic(env.council, actor=env.staff, title="墙面开裂", compound=env.compound)
    client.force_login(env.staff)
    photo = SimpleUploadedFile("crack.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100,
                               content_type="image/png")
    r = client.post(reverse("council:topic_action", args=[t.pk, "comment"]),
                    {"body": "见照片", "photo": photo})
    assert r.status_code == 302
    c = Comment.objects.get(topic=t, kind="comment")
    assert c.photo.name.startswith("council/comments/") and c.photo_type == "image/png"
    page = client.get(reverse("council:topic", args=[t.pk])).content.decode()
    assert reverse("council:comment_photo", args=[c.pk]) in page and c.photo.url not in page
