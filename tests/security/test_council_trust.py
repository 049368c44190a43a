"""Issue #12 ("Trust"), the council's part: owners' votes tied to voters (item 3), council photos
checked and served safely (item 7), @mentions only of people who may see the topic (item 9).

Each test fails on the code before the fix and passes after it."""

from __future__ import annotations

import json

import pytest

from jiayuan.cases.models import Notification
from jiayuan.council.models import Comment, Mention, Notice
from jiayuan.council.services import topics as ts
from jiayuan.council.services.topics import add_member, create_council
from jiayuan.registry.models import Liaison


@pytest.fixture
def env(tiny, make_user):
    """A council in S1N1 with its staff and a liaison; people and a department of S2 outside."""
    n = tiny.neighbourhoods["S1N1"]
    staff = make_user("staff", "neighbourhood_staff", n, display_name="居委王")
    liaison = make_user("liaison1", "liaison", n, department=tiny.departments["S1"],
                        display_name="联络员李")
    Liaison.objects.create(department=tiny.departments["S1"], neighbourhood=n, name="李",
                           user=liaison, path=n.path)
    outsider = make_user("outsider", "neighbourhood_staff", tiny.neighbourhoods["S2N1"],
                         display_name="外区张")
    far_dept = tiny.departments["S2"]
    far_staff = make_user("farcop", "department_staff", tiny.subdistricts["S2"],
                          department=far_dept, display_name="二所民警")
    property_co = make_user("wuye", "property_company", n, display_name="物业")
    council = create_council(n)
    add_member(council, actor=staff, role="party_secretary", name="张书记", user=staff)

    class Env:
        pass

    e = Env()
    e.__dict__.update(tiny=tiny, n=n, staff=staff, liaison=liaison, outsider=outsider,
                      far_dept=far_dept, far_staff=far_staff, property_co=property_co,
                      council=council, entrance=tiny.entrances["S1N1C1"],
                      compound=tiny.compounds["S1N1C1"])
    return e


def _topic(env, title="3号楼地下室渗水"):
    topic, _ = ts.raise_topic(env.council, actor=env.staff, title=title)
    return topic


# --- item 9: @mentions reach only people who may see the topic ---------------------------------

def test_a_mention_of_someone_outside_the_area_neither_mentions_nor_tells_them_the_title(env):
    topic = _topic(env, title="机密：3号楼业委会纠纷")
    ts.add_comment(topic, actor=env.staff, body="请 @outsider 和 @联络员李 看一下")
    assert list(Mention.objects.values_list("user__username", flat=True)) == ["liaison1"]
    assert not Notice.objects.filter(user=env.outsider).exists()
    assert not Notification.objects.filter(user=env.outsider).exists()
    assert not any("机密" in m for m in Notification.objects.filter(user=env.outsider)
                   .values_list("message", flat=True))
    # the person who may see it is told
    assert Notification.objects.filter(user=env.liaison, message__contains="机密").exists()


def test_a_department_whose_people_cannot_see_the_topic_is_not_mentioned_by_name(env):
    topic = _topic(env)
    ts.add_comment(topic, actor=env.staff, body="请 @PS2 协助")
    assert not Mention.objects.filter(department=env.far_dept).exists()
    assert not Notification.objects.filter(user=env.far_staff).exists()


def test_the_api_refuses_to_mention_a_department_that_cannot_see_the_topic(env, login):
    topic = _topic(env)
    before = Comment.objects.count()
    client = login(env.staff)
    r = client.post(f"/api/v1/council/topics/{topic.pk}/comments",
                    json.dumps({"body": "请协助", "departments": [env.far_dept.pk]}),
                    content_type="application/json")
    assert r.status_code == 422, r.content
    err = r.json()["error"]
    assert err["code"] == "invalid" and err["details"]["mentions"] == [env.far_dept.name]
    assert Comment.objects.count() == before  # nothing written
    assert not Notification.objects.filter(user=env.far_staff).exists()
    # the department of the area, with its liaison here, may be mentioned
    r = client.post(f"/api/v1/council/topics/{topic.pk}/comments",
                    json.dumps({"body": "请协助", "departments": [env.tiny.departments["S1"].pk]}),
                    content_type="application/json")
    assert r.status_code == 201, r.content
    assert Notification.objects.filter(user=env.liaison).exists()


def test_a_follower_who_can_no_longer_see_the_topic_hears_nothing(env):
    topic = _topic(env, title="机密：换届选举")
    topic.followers.add(env.outsider)  # e.g. followed while still posted to this neighbourhood
    ts.add_comment(topic, actor=env.staff, body="下周开会")
    assert not Notification.objects.filter(user=env.outsider).exists()


# --- item 7: council photos are checked like case photos and served safely -----------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML = b"<html><script>alert(document.cookie)</script></html>"


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def _stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def _comment_with(env, client, *files):
    from django.urls import reverse

    topic = _topic(env)
    client.force_login(env.staff)
    r = client.post(reverse("council:topic_action", args=[topic.pk, "comment"]),
                    {"body": "见照片", "photo": list(files)})
    return topic, r


def test_an_html_file_named_as_a_photo_is_refused_and_nothing_is_stored(env, client, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    topic, r = _comment_with(env, client, SimpleUploadedFile("evil.html", HTML,
                                                             content_type="image/png"))
    assert r.status_code == 422
    assert "不是 JPEG 或 PNG 照片" in r.content.decode()
    assert not Comment.objects.filter(topic=topic, kind="comment").exists()
    assert _stored_files(media) == []


def test_more_than_one_photo_on_a_comment_is_refused(env, client, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    topic, r = _comment_with(env, client, SimpleUploadedFile("a.png", PNG),
                             SimpleUploadedFile("b.png", PNG))
    assert r.status_code == 422
    assert not Comment.objects.filter(topic=topic, kind="comment").exists()
    assert _stored_files(media) == []


def test_a_receipt_that_is_not_a_photo_is_refused_and_nothing_is_spent(env, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jiayuan.core.errors import ValidationFailed
    from jiayuan.council.models import LedgerEntry
    from jiayuan.council.services import projects as ps

    p = ps.create_project(env.council, actor=env.staff, title="楼道修缮", budget="1000",
                          milestones=[("施工", None, "0")])
    ps.credit_fund(env.council, actor=env.staff, amount="1000", note="拨付")
    g = ps.approve_grant(ps.apply_grant(p, actor=env.staff, amount="500"), actor=env.staff,
                         amount="500")
    entries = LedgerEntry.objects.count()
    with pytest.raises(ValidationFailed):
        ps.spend(g, actor=env.staff, amount="100", receipt="R1",
                 receipt_file=SimpleUploadedFile("receipt.html", HTML))
    assert LedgerEntry.objects.count() == entries and _stored_files(media) == []


def test_a_photo_is_served_by_its_comment_as_an_image_with_nosniff_to_those_who_see_the_topic(
        env, client, media):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    topic, r = _comment_with(env, client, SimpleUploadedFile("../../x.html", PNG,
                                                             content_type="text/html"))
    assert r.status_code == 302
    c = Comment.objects.get(topic=topic, kind="comment")
    # stored under a name of ours, not the uploader's
    assert c.photo.name.startswith("council/comments/") and c.photo.name.endswith(".png")
    assert "x.html" not in c.photo.name
    url = reverse("council:comment_photo", args=[c.pk])
    page = client.get(reverse("council:topic", args=[topic.pk])).content.decode()
    assert f'src="{url}"' in page and "/media/" not in page
    r = client.get(url)
    assert r.status_code == 200
    assert r["Content-Type"] == "image/png" and r["X-Content-Type-Options"] == "nosniff"
    assert b"".join(r.streaming_content) == PNG
    assert client.get("/media/" + c.photo.name).status_code == 404  # no route to the raw file
    client.force_login(env.outsider)
    assert client.get(url).status_code == 404


# --- item 3: owners' votes are tied to voters ----------------------------------------------------

@pytest.fixture
def vote(env):
    """An elevator vote over four dwellings of one entrance: 101 {A}, 102 {B}, 103 {C},
    104 {D, E}; the register holds names, ID digits and phones."""
    from decimal import Decimal

    from jiayuan.council.models import DwellingOwner
    from jiayuan.council.services import consultations as cs
    from jiayuan.registry.models import Household

    flats = {}
    for room, owners in [("101", "A"), ("102", "B"), ("103", "C"), ("104", "DE")]:
        h = Household.objects.create(entrance=env.entrance, compound=env.compound, room=room,
                                     floor_area_m2=Decimal("80"))
        for o in owners:
            DwellingOwner.objects.create(household=h, owner_ref=o, name=f"业主{o}",
                                         id_last4=f"100{ord(o) % 10}", phone="13812345678")
        flats[room] = h
    c = cs.open_owners_vote(env.council, actor=env.staff, title="1号楼加装电梯",
                            matter="elevator_retrofit", scope="entrance",
                            scope_code=env.entrance.code)
    env.flats = flats
    return c


def _verified_owner(env, username, room, owner):
    from jiayuan.council.services import owners

    user = env.make_user(username, "resident")
    link = owners.request_owner_link(user=user, household=env.flats[room], name=f"业主{owner}",
                                     id_last4=f"100{ord(owner) % 10}")
    owners.decide_owner_link(link=link, actor=env.staff, approve=True)
    return user


@pytest.fixture
def make(env, make_user):
    env.make_user = make_user
    return env


def test_a_property_company_cannot_cast_online_ballots_for_the_owners(env, vote):
    from jiayuan.core.errors import Forbidden
    from jiayuan.council.models import VoteBallot
    from jiayuan.council.services import consultations as cs

    for room, ref in [("101", "A"), ("102", "B"), ("103", "C"), ("104", "D")]:
        with pytest.raises(Forbidden):
            cs.cast_ballot(vote, actor=env.property_co, household_id=env.flats[room].pk,
                           choice="yes", source="online", cast_by=ref)
    with pytest.raises(Forbidden):  # nor key them in as paper ballots
        cs.cast_ballot(vote, actor=env.property_co, household_id=env.flats["101"].pk,
                       choice="yes", source="paper", cast_by="A", paper_number="1")
    assert not VoteBallot.objects.exists()
    vote.refresh_from_db()
    assert vote.result_status == "no_quorum" and vote.participants == 0


def test_only_a_verified_owner_votes_online_and_only_for_their_own_dwelling(make, vote):
    from jiayuan.core.errors import DomainError, Forbidden
    from jiayuan.council.models import OwnerEvent, VoteBallot
    from jiayuan.council.services import consultations as cs
    from jiayuan.council.services import owners

    env = make
    user = env.make_user("owner_b", "resident")
    link = owners.request_owner_link(user=user, household=env.flats["102"], name="业主B",
                                     id_last4="1006")
    with pytest.raises(Forbidden):  # the claim is not valid until the neighbourhood verifies
        cs.cast_ballot(vote, actor=user, household_id=env.flats["102"].pk, choice="yes",
                       source="online")
    with pytest.raises(DomainError):  # staff of another neighbourhood cannot verify it
        owners.decide_owner_link(link=link, actor=env.outsider, approve=True)
    owners.decide_owner_link(link=link, actor=env.staff, approve=True)
    # the form's cast_by is not believed: the ballot is B's, from B's verified link
    vote = cs.cast_ballot(vote, actor=user, household_id=env.flats["102"].pk, choice="yes",
                          source="online", cast_by="A")
    b = VoteBallot.objects.get()
    assert (b.cast_by, b.cast_by_user, b.household_id) == ("B", user, env.flats["102"].pk)
    with pytest.raises(Forbidden):  # not for a neighbour's flat
        cs.cast_ballot(vote, actor=user, household_id=env.flats["101"].pk, choice="yes",
                       source="online")
    assert VoteBallot.objects.count() == 1
    kinds = list(OwnerEvent.objects.values_list("kind", flat=True))
    assert kinds[-3:] == ["link_requested", "link_verified", "ballot_cast"]


def test_an_owner_claim_must_match_the_register(make, vote):
    from jiayuan.core.errors import ValidationFailed
    from jiayuan.council.models import OwnerLink
    from jiayuan.council.services import owners

    user = make.make_user("claimant", "resident")
    with pytest.raises(ValidationFailed):
        owners.request_owner_link(user=user, household=make.flats["101"], name="业主A",
                                  id_last4="9999")
    assert not OwnerLink.objects.exists()


def test_paper_ballots_only_by_authorised_staff_with_the_paper_number(env, vote):
    from jiayuan.core.errors import DomainError, Forbidden, ValidationFailed
    from jiayuan.council.models import VoteBallot
    from jiayuan.council.services import consultations as cs

    h = env.flats["101"].pk
    with pytest.raises(Forbidden):  # a liaison takes part in the council but keys in no ballot
        cs.cast_ballot(vote, actor=env.liaison, household_id=h, choice="yes", source="paper",
                       cast_by="A", paper_number="0001")
    with pytest.raises(DomainError):  # staff of another neighbourhood
        cs.cast_ballot(vote, actor=env.outsider, household_id=h, choice="yes", source="paper",
                       cast_by="A", paper_number="0001")
    with pytest.raises(ValidationFailed):
        cs.cast_ballot(vote, actor=env.staff, household_id=h, choice="yes", source="paper",
                       cast_by="A", paper_number="")
    cs.cast_ballot(vote, actor=env.staff, household_id=h, choice="yes", source="paper",
                   cast_by="A", paper_number="0001")
    with pytest.raises(ValidationFailed):  # one paper, one ballot
        cs.cast_ballot(vote, actor=env.staff, household_id=env.flats["102"].pk, choice="yes",
                       source="paper", cast_by="B", paper_number="0001")
    b = VoteBallot.objects.get()
    assert (b.entered_by, b.paper_number, b.cast_by_user) == (env.staff, "0001", None)


def test_a_proxy_votes_only_with_the_owners_active_grant_and_revocation_is_recorded(make, vote):
    from jiayuan.core.errors import Forbidden, ValidationFailed
    from jiayuan.council.models import OwnerEvent, VoteBallot, VoteProxy
    from jiayuan.council.services import consultations as cs

    env = make
    c_owner = _verified_owner(env, "owner_c", "103", "C")
    a_owner = _verified_owner(env, "owner_a", "101", "A")
    holder = env.make_user("neighbour", "resident")
    h103, h101 = env.flats["103"].pk, env.flats["101"].pk
    with pytest.raises(Forbidden):  # no grant yet
        cs.cast_ballot(vote, actor=holder, household_id=h103, choice="yes", source="proxy")
    with pytest.raises(Forbidden):  # a stranger cannot grant a proxy for C's flat
        cs.grant_proxy(vote, actor=env.property_co, household_id=h103, granted_by="C",
                       holder_user=holder)
    p103 = cs.grant_proxy(vote, actor=c_owner, household_id=h103, holder_user=holder,
                          granted_by="A")  # granted_by comes from C's own link
    assert (p103.granted_by, p103.granted_by_user, p103.holder_user) == ("C", c_owner, holder)
    p101 = cs.grant_proxy(vote, actor=a_owner, household_id=h101, holder_user=holder)
    cs.revoke_proxy(p101, actor=a_owner)
    p101.refresh_from_db()
    assert p101.revoked and p101.revoked_by == a_owner and p101.revoked_at is not None
    with pytest.raises(Forbidden):  # the revoked proxy no longer votes
        cs.cast_ballot(vote, actor=holder, household_id=h101, choice="yes", source="proxy")
    vote = cs.cast_ballot(vote, actor=holder, household_id=h103, choice="no", source="proxy")
    b = VoteBallot.objects.get()
    assert (b.source, b.cast_by_user, b.household_id) == ("proxy", holder, h103)
    assert vote.result["by_source"]["proxy"] == 1
    with pytest.raises(ValidationFailed):  # a proxy that voted cannot be revoked
        cs.revoke_proxy(VoteProxy.objects.get(pk=p103.pk), actor=c_owner)
    assert {"proxy_granted", "proxy_revoked", "ballot_cast"} <= set(
        OwnerEvent.objects.values_list("kind", flat=True))


def test_the_result_page_shows_who_cast_or_entered_each_ballot(make, vote, login):
    from django.urls import reverse

    from jiayuan.council.services import consultations as cs

    env = make
    owner = _verified_owner(env, "owner_b", "102", "B")
    cs.cast_ballot(vote, actor=owner, household_id=env.flats["102"].pk, choice="yes",
                   source="online")
    cs.cast_ballot(vote, actor=env.staff, household_id=env.flats["101"].pk, choice="yes",
                   source="paper", cast_by="A", paper_number="P-0007")
    page = login(env.staff).get(reverse("council:consultation", args=[vote.pk])).content.decode()
    paper = page.split(f'data-testid="ballot-{env.flats["101"].pk}-paper"')[1].split("</span>")[0]
    assert "P-0007" in paper and "居委王" in paper and "业主A" in paper
    online = page.split(f'data-testid="ballot-{env.flats["102"].pk}-online"')[1] \
        .split("</span>")[0]
    assert "owner_b" in online and "业主B" in online


def test_an_owner_claims_from_the_home_code_and_staff_verify_on_the_register_page(
        make, vote, client):
    from django.urls import reverse

    from jiayuan.council.models import OwnerLink

    env = make
    resident = env.make_user("resident_d", "resident")
    client.force_login(resident)
    url = reverse("council:owner_claim", args=[env.entrance.home_code])
    r = client.post(url, {"room": "104", "name": "业主D", "id_last4": "0000"})
    assert r.status_code == 422 and not OwnerLink.objects.exists()
    r = client.post(url, {"room": "104", "name": "业主D", "id_last4": "1008"})
    assert r.status_code == 200
    link = OwnerLink.objects.get()
    assert link.status == "requested" and link.owner.owner_ref == "D"
    client.force_login(env.property_co)  # the register is the neighbourhood staff's
    assert client.get(reverse("council:owners", args=[env.council.pk])).status_code in (403, 404)
    client.force_login(env.staff)
    page = client.get(reverse("council:owners", args=[env.council.pk])).content.decode()
    assert "138****5678" in page and "13812345678" not in page  # phones masked in the list
    r = client.post(reverse("council:owners_action", args=[env.council.pk, "verify"]),
                    {"link": link.pk})
    assert r.status_code == 302
    link.refresh_from_db()
    assert link.status == "verified" and link.decided_by == env.staff


def test_the_owner_claim_page_is_no_oracle_for_a_neighbours_id_digits(make, vote, client):
    from django.core.cache import cache
    from django.urls import reverse

    from jiayuan.council.models import OwnerLink

    cache.clear()
    client.force_login(make.make_user("prober", "resident"))
    url = reverse("council:owner_claim", args=[make.entrance.home_code])
    for guess in range(5):
        r = client.post(url, {"room": "101", "name": "业主A", "id_last4": f"{guess:04d}"})
        assert r.status_code == 422
    # even the right digits are no longer checked once the misses are used up
    r = client.post(url, {"room": "101", "name": "业主A", "id_last4": "1005"})
    assert r.status_code == 429 and not OwnerLink.objects.exists()
    cache.clear()
