"""Page forms. They only shape input; the services check it (and refuse in Chinese)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jiayuan.care.models import (
    Carer,
    CareTask,
    Cognition,
    Health,
    LivingConditions,
    Mobility,
    RiskLevel,
    VisitLog,
)

CONTACTS = 2


class ElderForm(forms.Form):
    name = forms.CharField(label=_("full name"), max_length=50)
    id_number = forms.CharField(label=_("ID number"), max_length=18, required=False)
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)
    birth_year = forms.IntegerField(label=_("birth year"))
    entrance_code = forms.CharField(label=_("entrance code"), max_length=40)
    room = forms.CharField(label=_("room"), max_length=20, required=False)
    health = forms.ChoiceField(label=_("health"), choices=Health.choices)
    chronic_conditions = forms.IntegerField(label=_("chronic conditions"), min_value=0,
                                            max_value=20, initial=0)
    mobility = forms.ChoiceField(label=_("mobility"), choices=Mobility.choices)
    cognition = forms.ChoiceField(label=_("cognition"), choices=Cognition.choices)
    living_conditions = forms.ChoiceField(label=_("living conditions"),
                                          choices=LivingConditions.choices)
    stairs_without_elevator = forms.BooleanField(label=_("upper floor without elevator"),
                                                 required=False)
    carer = forms.ChoiceField(label=_("carer"), choices=Carer.choices, initial=Carer.NONE)
    children_nearby = forms.BooleanField(label=_("children nearby"), required=False)
    volunteer_name = forms.CharField(label=_("volunteer"), max_length=50, required=False)
    visitor = forms.ChoiceField(label=_("assigned visitor"), required=False)
    consent = forms.BooleanField(label=_("consent to register and to sensors"),
                                 required=False)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 2}),
                            required=False)

    def __init__(self, *args: Any, visitors: list[tuple[str, str]] = (),  # type: ignore[assignment]
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visitor"].choices = [("", "—"), *visitors]
        for i in range(1, CONTACTS + 1):
            self.fields[f"contact{i}_name"] = forms.CharField(
                label=_("emergency contact %(n)s") % {"n": i}, max_length=50, required=False)
            self.fields[f"contact{i}_relation"] = forms.CharField(
                label=_("relation"), max_length=20, required=False)
            self.fields[f"contact{i}_phone"] = forms.CharField(
                label=_("phone"), max_length=30, required=False)

    def service_data(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        d["emergency_contacts"] = [
            {"name": d.pop(f"contact{i}_name", ""), "relation": d.pop(f"contact{i}_relation", ""),
             "phone": d.pop(f"contact{i}_phone", "")} for i in range(1, CONTACTS + 1)]
        return d

    @staticmethod
    def initial_of(elder: Any) -> dict[str, Any]:
        init = {f: getattr(elder, f) for f in (
            "name", "id_number", "phone", "birth_year", "room", "health", "chronic_conditions",
            "mobility", "cognition", "living_conditions", "stairs_without_elevator", "carer",
            "children_nearby", "volunteer_name", "consent", "notes")}
        init["entrance_code"] = elder.entrance.code
        init["visitor"] = str(elder.visitor_id or "")
        for i, c in enumerate(elder.emergency_contacts[:CONTACTS], start=1):
            init[f"contact{i}_name"] = c.get("name", "")
            init[f"contact{i}_relation"] = c.get("relation", "")
            init[f"contact{i}_phone"] = c.get("phone", "")
        return init


class FilterForm(forms.Form):
    risk = forms.ChoiceField(label=_("risk level"), required=False,
                             choices=[("", _("all levels")), *RiskLevel.choices])
    neighbourhood = forms.ChoiceField(label=_("neighbourhood"), required=False)
    overdue = forms.BooleanField(label=_("visit overdue"), required=False)

    def __init__(self, *args: Any, neighbourhoods: list[tuple[str, str]] = (),  # type: ignore[assignment]
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["neighbourhood"].choices = [("", _("all neighbourhoods")), *neighbourhoods]


class VisitForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=VisitLog.Outcome.choices)
    method = forms.ChoiceField(label=_("method"), choices=VisitLog.Method.choices)
    visitor_name = forms.CharField(label=_("visitor (if not you)"), max_length=50,
                                   required=False)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 2}),
                            required=False, max_length=2000)


class TaskDoneForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=CareTask.Outcome.choices)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 2}),
                            required=False, max_length=2000)
