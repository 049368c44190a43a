from __future__ import annotations

import pytest

from jiayuan.care.services import register_elder

# A valid GB 11643 number for someone born in 1940 (check character computed).
ID_1940 = "310115194003150014"


def valid_id(prefix17: str) -> str:
    from jiayuan.care.services.register import ID_CHECK, ID_WEIGHTS

    total = sum(int(c) * w for c, w in zip(prefix17, ID_WEIGHTS, strict=True))
    return prefix17 + ID_CHECK[total % 11]


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(tiny, make_user):
    return {
        "staff": make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]),
        "other": make_user("zhao", "neighbourhood_staff", tiny.neighbourhoods["S1N2"]),
        "duty": make_user("zhou", "duty_officer", tiny.subdistricts["S1"]),
        "police": make_user("police", "department_staff", tiny.subdistricts["S1"],
                            department=tiny.departments["S1"]),
    }


@pytest.fixture
def elder_data():
    return {"name": "张桂英", "birth_year": 1940, "id_number": valid_id("31011519400315001"),
            "phone": "13812345678", "health": "fair", "mobility": "independent",
            "cognition": "normal", "living_conditions": "good", "carer": "none",
            "children_nearby": True, "consent": True,
            "emergency_contacts": [{"name": "李明", "relation": "儿子", "phone": "13900001111"}]}


@pytest.fixture
def elder(tiny, people, elder_data):
    return register_elder(by=people["staff"], data=elder_data,
                          entrance=tiny.entrances["S1N1C1"], visitor=people["staff"])
