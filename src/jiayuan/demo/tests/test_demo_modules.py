"""The domain modules' demo data: generated after the log-ins, gone with --replace."""

from __future__ import annotations

import pytest
from django.test import override_settings

from jiayuan.demo.accounts import create_demo_accounts
from jiayuan.demo.generator.write import generate
from jiayuan.demo.modules import DEMO_MODULES, generate_modules

pytestmark = pytest.mark.django_db


@override_settings(DEMO_MODE=True)
def test_modules_fill_their_tables_and_a_replace_wipes_them_first(db):
    from django.apps import apps

    generate("street", 3)
    create_demo_accounts()
    said: list[str] = []
    counts = generate_modules(3, said.append)
    assert len(said) == len(DEMO_MODULES)
    assert all(v > 0 for k, v in counts.items() if k.endswith(("people", "councils", "devices")))
    models = [m for m in apps.get_models()
              if m._meta.app_label in {label for label, _, _ in DEMO_MODULES}]
    assert sum(m.objects.count() for m in models) > 0
    generate("street", 4, replace=True)  # would fail on protected rows without the wipe
    assert sum(m.objects.count() for m in models) == 0
