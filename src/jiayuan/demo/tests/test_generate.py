"""Writing the street-scale district: rows, paths, geometry, determinism, refusals."""

from __future__ import annotations

from io import StringIO

import pytest
import shapely
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.test import override_settings

from jiayuan.accounts.models import User
from jiayuan.core.errors import Conflict, Forbidden, ValidationFailed
from jiayuan.demo.accounts import DEMO_PASSWORD, create_demo_accounts
from jiayuan.demo.generator.write import generate, home_code, registry_checksum
from jiayuan.registry import selectors
from jiayuan.registry.geo import parse_polygon
from jiayuan.registry.models import (
    Building,
    Compound,
    District,
    Entrance,
    Household,
    Liaison,
    Neighbourhood,
    RegistryEvent,
    Subdistrict,
)
from jiayuan.registry.services import PATH_MODELS, compute_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def street(db):
    return generate("street", 11)


def test_same_seed_gives_identical_rows_and_another_seed_does_not(db):
    generate("street", 7)
    first = registry_checksum()
    generate("street", 7, replace=True)
    assert registry_checksum() == first
    generate("street", 8, replace=True)
    assert registry_checksum() != first


def test_street_counts_are_within_the_stated_ranges(street):
    assert District.objects.get().code == "310115"
    assert Subdistrict.objects.get().name == "陆家嘴街道"
    assert 25 <= Neighbourhood.objects.count() <= 35
    assert 70 <= Compound.objects.count() <= 90
    total = Compound.objects.aggregate(n=Sum("households"))["n"]
    assert Household.objects.count() == total == street["households"] == 42_000
    assert Building.objects.count() == street["buildings"] > 0
    assert Entrance.objects.count() == street["entrances"] > Building.objects.count() / 2
    assert Liaison.objects.count() == Neighbourhood.objects.count() * 8


def test_each_compound_holds_as_many_dwellings_as_it_says(street):
    counted = dict(Household.objects.values_list("compound__code").annotate(n=Count("id")))
    for code, households in Compound.objects.values_list("code", "households"):
        assert counted[code] == households
    per_entrance = dict(Household.objects.values_list("entrance_id").annotate(n=Count("id")))
    for pk, households in Entrance.objects.values_list("pk", "households"):
        assert per_entrance[pk] == households


def test_paths_are_exactly_what_compute_path_gives(street):
    related = {"Subdistrict": ["district"], "Neighbourhood": ["subdistrict"],
               "Compound": ["neighbourhood"], "Building": ["compound"],
               "Entrance": ["building"], "GridCell": ["subdistrict", "neighbourhood"],
               "Department": ["district", "subdistrict"],
               "OperationsCentre": ["district", "subdistrict"],
               "JointStation": ["neighbourhood"], "Liaison": ["neighbourhood"],
               "Unit": ["subdistrict", "neighbourhood"]}
    checked = 0
    for model in PATH_MODELS:
        for obj in model.objects.select_related(*related.get(model.__name__, [])):
            assert obj.path == compute_path(obj), (model.__name__, obj.pk)
            checked += 1
    assert checked > 2000


def test_stored_polygons_are_valid_and_nested(street):
    hoods = {n.code: parse_polygon(n.boundary) for n in Neighbourhood.objects.all()}
    sub = parse_polygon(Subdistrict.objects.get().boundary)
    for geom in hoods.values():
        assert sub.buffer(1e-9).contains(geom)
    compounds = [(c.code, parse_polygon(c.boundary)) for c in Compound.objects.all()]
    tree = shapely.STRtree([g for _, g in compounds])
    a, b = tree.query([g for _, g in compounds], predicate="intersects")
    assert (a == b).all()
    for code, geom in compounds:
        assert hoods[code[:12]].contains(geom)


def test_locate_finds_a_compound_at_its_representative_point(street):
    for c in Compound.objects.order_by("code")[:15]:
        point = parse_polygon(c.boundary).representative_point()
        _, where = selectors.locate(point.x, point.y)
        assert where.compound == c.code
        assert where.neighbourhood == c.neighbourhood.code
        assert where.grid_cell is not None and where.grid_cell.startswith(c.neighbourhood.code)


def test_home_codes_are_hmac_of_the_secret_and_unguessable_without_it(street):
    e = Entrance.objects.order_by("code").first()
    assert e.home_code == home_code(11, e.code)
    assert len(e.home_code) == 22
    with override_settings(SECRET_KEY="another-deployment-secret"):
        assert home_code(11, e.code) != e.home_code
    assert Entrance.objects.values("home_code").distinct().count() == Entrance.objects.count()


def test_generation_appends_a_registry_event(street):
    event = RegistryEvent.objects.get(action=RegistryEvent.Action.GENERATE)
    assert event.summary["scale"] == "street" and event.summary["seed"] == 11
    assert event.summary["counts"]["households"] == 42_000


def test_second_generation_without_replace_is_refused_and_changes_nothing(street):
    before = registry_checksum()
    with pytest.raises(Conflict):
        generate("street", 12)
    assert registry_checksum() == before
    assert RegistryEvent.objects.filter(action="generate").count() == 1


def test_unknown_scale_is_refused_before_writing(db):
    with pytest.raises(ValidationFailed):
        generate("shanghai", 1)
    assert not District.objects.exists()


def test_generate_command_prints_counts_and_refuses_a_second_run(db):
    out = StringIO()
    call_command("generate", scale="street", seed=2, stdout=out)
    text = out.getvalue()
    assert "households" in text and "42,000" in text and "elapsed" in text
    with pytest.raises(CommandError, match="--replace"):
        call_command("generate", scale="street", seed=2, stdout=StringIO())


def test_demo_accounts_cover_every_role_with_the_printed_password(street):
    logins = create_demo_accounts(allow_outside_demo=True)
    names = {x.username for x in logins}
    assert {"admin", "district_duty", "duty", "staff", "police", "liaison", "analyst",
            "deputy", "property", "resident"} <= names
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    assert {u.role for u in users.values()} >= {"admin", "duty_officer", "neighbourhood_staff",
                                                "department_staff", "liaison", "deputy",
                                                "district_analyst", "property_company",
                                                "resident"}
    staff = users["staff"]
    assert staff.role == "neighbourhood_staff"
    grant = staff.area_grants.get()
    assert grant.region_type == "neighbourhood"
    assert users["police"].department.kind == "police_station"
    assert Liaison.objects.get(user=users["liaison"]).neighbourhood.code == grant.region_code


def test_demo_accounts_are_refused_outside_demo_mode(street):
    with override_settings(DEMO_MODE=False), pytest.raises(Forbidden):
        create_demo_accounts()


def test_demo_staff_can_log_in_through_the_login_page(street, client):
    create_demo_accounts(allow_outside_demo=True)
    response = client.post("/login/", {"username": "staff", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(User.objects.get(username="staff").pk)


def test_generated_rows_pass_model_validation(street):
    from jiayuan.registry.services import PATH_MODELS

    for model in PATH_MODELS:
        for obj in model.objects.order_by("pk")[:5]:
            obj.full_clean()
    for household in Household.objects.order_by("pk")[:5]:
        household.full_clean()
