"""``jiayuan createuser USERNAME --role ROLE --area CODE …``: a user with a role and areas."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from jiayuan.accounts.models import Role
from jiayuan.accounts.services import create_user, issue_token
from jiayuan.core.errors import DomainError

PASSWORD_ENV = "JIAYUAN_NEW_PASSWORD"  # noqa: S105 - the name of a variable, not a secret


class Command(BaseCommand):
    help = (f"Create a user with a role and the areas they act in. The password comes from "
            f"--password, else ${PASSWORD_ENV}, else an interactive prompt. --token also "
            "issues a personal API token and prints it once.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help="one of: " + ", ".join(Role.values))
        parser.add_argument("--area", action="extend", nargs="+", default=[], metavar="CODE",
                            help="area code(s), optionally kind:code (e.g. neighbourhood:…)")
        parser.add_argument("--password")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument("--token", nargs="?", const="cli", default=None, metavar="NAME",
                            help="issue an API token (optional name) and print it once")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or os.environ.get(PASSWORD_ENV) or self._prompt()
        try:
            with transaction.atomic():
                user = create_user(
                    username=options["username"], password=password, role=options["role"],
                    areas=list(options["area"]), display_name=options["display_name"],
                    phone=options["phone"],
                )
                token = issue_token(user=user, name=options["token"]) \
                    if options["token"] is not None else None
        except DomainError as exc:
            raise CommandError(_explain(exc)) from None
        areas = "、".join(g.label or g.region_code for g in user.area_grants.all()) or "（全区）"
        self.stdout.write(self.style.SUCCESS(
            f"已创建用户“{user.username}”，角色 {Role(user.role).label}，管辖区域：{areas}"))
        if token is not None:
            self.stdout.write(f"API 令牌（只显示这一次，请妥善保存）：{token}")

    def _prompt(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError(f"请用 --password 或环境变量 {PASSWORD_ENV} 提供密码")
        first = getpass.getpass("密码：")
        if first != getpass.getpass("再输一次："):
            raise CommandError("两次输入的密码不一致")
        return first


def _explain(exc: DomainError) -> str:
    details = exc.details
    if isinstance(details, dict):
        parts = []
        for key, value in details.items():
            shown = "；".join(str(v) for v in value) if isinstance(value, list) else str(value)
            parts.append(f"{key}: {shown}")
        if parts:
            return f"{exc.message}（{'，'.join(parts)}）"
    return exc.message
