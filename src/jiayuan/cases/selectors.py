"""Reads of cases. Every function takes the viewer's ``AreaScope`` and filters by it."""

from __future__ import annotations

from django.db.models import QuerySet

from jiayuan.accounts.scope import AreaScope
from jiayuan.cases.models import Case
from jiayuan.core.errors import NotFound, OutOfScope


def cases(scope: AreaScope) -> QuerySet[Case]:
    return scope.filter(Case.objects.all())


def get_case(scope: AreaScope, number: str) -> Case:
    """One case by number; ``NotFound`` if absent, ``OutOfScope`` if outside the area."""
    case = Case.objects.select_related("category", "compound", "neighbourhood").filter(
        number=number).first()
    if case is None:
        raise NotFound(f"没有编号为“{number}”的工单")
    if not scope.covers(case.path):
        raise OutOfScope()
    return case
