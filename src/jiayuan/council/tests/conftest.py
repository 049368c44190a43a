"""Fixtures of the council app's Django tests: a council in S1N1 with staff, a liaison with a
department, a lawyer member, and a building entrance of four dwellings with owners."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jiayuan.council.models import DwellingOwner
from jiayuan.council.services.topics import add_member, create_council
from jiayuan.registry.models import Household, Liaison


@pytest.fixture
def env(tiny, make_user):
    n = tiny.neighbourhoods["S1N1"]
    dept = tiny.departments["S1"]
    staff = make_user("staff", "neighbourhood_staff", n, display_name="居委王")
    liaison = make_user("liaison1", "liaison", n, department=dept, display_name="联络员李")
    other = make_user("other", "neighbourhood_staff", tiny.neighbourhoods["S2N1"])
    bystander = make_user("bystander", "property_company", n)
    duty = make_user("duty", "duty_officer", tiny.subdistricts["S1"])
    Liaison.objects.create(department=dept, neighbourhood=n, name="李", user=liaison,
                           path=n.path)
    council = create_council(n)
    add_member(council, actor=staff, role="party_secretary", name="张书记", user=staff)
    add_member(council, actor=staff, role="department_liaison", name="李", user=liaison,
               department=dept)
    add_member(council, actor=staff, role="lawyer", name="赵律师")

    class Env:
        pass

    e = Env()
    e.__dict__.update(tiny=tiny, n=n, dept=dept, staff=staff, liaison=liaison, other=other,
                      bystander=bystander, duty=duty, council=council,
                      entrance=tiny.entrances["S1N1C1"], compound=tiny.compounds["S1N1C1"])
    return e


@pytest.fixture
def flats(env):
    """101: 100 m² {A}; 102: 50 m² {B}; 103: 50 m² {C}; 104: 100 m² {D, E} (co-owners).
    Total 300 m², 4 owners by headcount (D and E together are one)."""
    rows = {}
    for room, area, owners in [("101", "100", "A"), ("102", "50", "B"), ("103", "50", "C"),
                               ("104", "100", "DE")]:
        h = Household.objects.create(entrance=env.entrance, compound=env.compound, room=room,
                                     floor_area_m2=Decimal(area))
        for o in owners:
            DwellingOwner.objects.create(household=h, owner_ref=o, name=f"业主{o}",
                                         id_last4="1234")
        rows[room] = h
    return rows
