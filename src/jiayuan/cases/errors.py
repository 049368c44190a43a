"""The cases app's own refusals (the shared ones live in ``jiayuan.core.errors``)."""

from __future__ import annotations

from jiayuan.core.errors import DomainError


class HistoryIsAppendOnly(DomainError):
    """Something tried to change or overwrite a ``CaseEvent`` row. A case's history is only
    ever appended to (``jiayuan.cases.events``); a correction is a new event."""

    code = "history_append_only"
    status = 409
    default_message = "工单历史只能追加，不能修改"
