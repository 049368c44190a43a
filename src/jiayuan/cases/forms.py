"""Forms of the case pages: parse and validate input only; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jiayuan.cases import lifecycle as lc
from jiayuan.cases.models import Channel
from jiayuan.cases.selectors import CaseFilters
from jiayuan.cases.services.attachments import MAX_PHOTOS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to three files; the magic-byte check is the service's (``check_photos``)."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png", "capture": "environment"})

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(f"最多上传 {MAX_PHOTOS} 张照片")
        return [super(PhotosField, self).clean(f, initial) for f in files]


class ReportForm(forms.Form):
    """A resident's report from a home-code page."""

    category = forms.CharField(label=_("What kind of problem"), required=False, max_length=20)
    description = forms.CharField(label=_("Describe the problem"), max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    photos = PhotosField(label=_("Photos (up to 3)"), required=False)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput,
                           min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    reporter_name = forms.CharField(label=_("Your name (optional)"), max_length=50,
                                    required=False)
    reporter_phone = forms.RegexField(label=_("Your phone (optional)"), required=False,
                                      regex=r"^[0-9+\- ]{5,20}$", max_length=20,
                                      error_messages={"invalid": "请填写有效的电话号码"})
    # The resident's consent that the public interface shows the exact position (open311.policy).
    exact_position_public = forms.BooleanField(
        label=_("Show the exact position on the public map"), required=False,
        widget=forms.CheckboxInput(attrs={"aria-describedby": "exact-position-help"}))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, min_length=16)

    def clean_category(self) -> str:
        value: str = self.cleaned_data.get("category") or ""
        return "" if value == "other" else value


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Add a note"), max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("Photos (up to 3)"), required=False)


class RateForm(forms.Form):
    rating = forms.ChoiceField(label=_("How satisfied are you?"), widget=forms.RadioSelect,
                               choices=[("satisfied", "满意"),
                                        ("basically_satisfied", "基本满意"),
                                        ("dissatisfied", "不满意")])
    reason = forms.CharField(label=_("Comment (optional)"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why is it not fixed?"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class FilterForm(forms.Form):
    state = forms.ChoiceField(label=_("state"), required=False,
                              choices=[("", "—"), *[(s.value, lc.STATE_LABELS[s])
                                                    for s in lc.State]])
    category = forms.CharField(label=_("category code"), required=False, max_length=20)
    channel = forms.ChoiceField(label=_("channel"), required=False,
                                choices=[("", "—"), *Channel.choices])
    tier = forms.ChoiceField(label=_("tier"), required=False,
                             choices=[("", "—"), *[(t.value, lc.TIER_LABELS[t])
                                                   for t in lc.Tier]])
    overdue = forms.BooleanField(label=_("overdue only"), required=False)
    q = forms.CharField(label=_("search"), required=False, max_length=100)
    date_from = forms.DateField(label=_("from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("to"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def filters(self) -> CaseFilters:
        d = self.cleaned_data if self.is_valid() else {}
        return CaseFilters(
            state=d.get("state") or "", category=(d.get("category") or "").strip(),
            channel=d.get("channel") or "", tier=d.get("tier") or "",
            overdue=bool(d.get("overdue")), text=(d.get("q") or "").strip(),
            date_from=d.get("date_from"), date_to=d.get("date_to"),
        )


EXTENSION_UNITS = [("working_days", "工作日"), ("working_hours", "工作小时"),
                   ("calendar_days", "自然日")]


class ActionForm(forms.Form):
    """One staff action on a case; which fields matter depends on ``kind``."""

    kind = forms.ChoiceField(choices=[(k.value, lc.ACTION_LABELS[k]) for k in lc.ActionKind],
                             widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason or report"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    lead_unit = forms.CharField(label=_("lead unit"), required=False, max_length=60)
    assisting_units = forms.MultipleChoiceField(label=_("assisting units"), required=False,
                                                widget=forms.CheckboxSelectMultiple)
    extension_amount = forms.IntegerField(label=_("extension"), required=False, min_value=1,
                                          max_value=90)
    extension_unit = forms.ChoiceField(label=_("unit"), required=False, choices=EXTENSION_UNITS)
    into_case = forms.CharField(label=_("merge into case number"), required=False,
                                max_length=24)
    rating = forms.ChoiceField(label=_("rating"), required=False,
                               choices=[("", "—"), *RateForm.base_fields["rating"].choices])
    photos = PhotosField(label=_("Photos (up to 3)"), required=False)

    def __init__(self, *args: Any, units: list[tuple[str, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assisting_units"].choices = units or []


# The bulk actions of the list page (each is then one ``act`` per ticked case).
BULK_ACTIONS = {"accept": "受理", "dispatch": "派遣", "supervise": "督办"}
