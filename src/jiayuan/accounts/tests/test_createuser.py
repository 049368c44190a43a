"""``jiayuan createuser``: a user with a role, areas and optionally an API token."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from jiayuan.accounts.models import ApiToken, User

GOOD = "a-Long-enough-passphrase-7"


def run(*args: str, **kwargs: object) -> str:
    out = io.StringIO()
    call_command("createuser", *args, stdout=out, **kwargs)
    return out.getvalue()


@pytest.mark.django_db
def test_createuser_grants_the_areas_given(tiny):
    n1, n2 = tiny.neighbourhoods["S1N1"], tiny.neighbourhoods["S2N2"]

    out = run("wang", "--role", "neighbourhood_staff", "--area", n1.code, n2.code,
              "--password", GOOD, "--display-name", "王社工")

    user = User.objects.get(username="wang")
    assert user.check_password(GOOD) and user.display_name == "王社工"
    assert sorted(user.area_grants.values_list("path", flat=True)) == sorted([n1.path, n2.path])
    assert "已创建用户“wang”" in out


@pytest.mark.django_db
def test_createuser_reads_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("JIAYUAN_NEW_PASSWORD", GOOD)

    run("root", "--role", "admin")

    assert User.objects.get(username="root").check_password(GOOD)


@pytest.mark.django_db
def test_createuser_token_is_printed_once_and_stored_as_a_hash(monkeypatch):
    monkeypatch.setenv("JIAYUAN_NEW_PASSWORD", GOOD)

    out = run("analyst", "--role", "district_analyst", "--token", "bi")

    token = out.strip().splitlines()[-1].split("：", 1)[1]
    row = ApiToken.objects.get(user__username="analyst")
    assert row.name == "bi" and row.key_hash == ApiToken.hash_key(token)


@pytest.mark.parametrize(("args", "fragment"), [
    (["x", "--role", "wizard"], "未知角色“wizard”"),
    (["x", "--role", "neighbourhood_staff"], "必须至少指定一个管辖区域"),
    (["x", "--role", "neighbourhood_staff", "--area", "999999"], "没有编码为“999999”的区域"),
    (["x", "--role", "admin", "--password", "123"], "密码不符合要求"),
])
@pytest.mark.django_db
def test_createuser_refuses_with_a_clear_message_and_creates_nothing(tiny, monkeypatch,
                                                                      args, fragment):
    monkeypatch.setenv("JIAYUAN_NEW_PASSWORD", GOOD)

    with pytest.raises(CommandError) as caught:
        run(*args)

    assert fragment in str(caught.value)
    assert not User.objects.filter(username="x").exists()


@pytest.mark.django_db
def test_createuser_refuses_a_taken_username(make_user, monkeypatch):
    make_user("li", "admin")
    monkeypatch.setenv("JIAYUAN_NEW_PASSWORD", GOOD)

    with pytest.raises(CommandError, match="已被使用"):
        run("li", "--role", "admin")


@pytest.mark.django_db
def test_createuser_without_any_password_source_refuses_when_not_interactive(monkeypatch):
    monkeypatch.delenv("JIAYUAN_NEW_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    with pytest.raises(CommandError, match="JIAYUAN_NEW_PASSWORD"):
        run("y", "--role", "admin")
    assert not User.objects.filter(username="y").exists()
