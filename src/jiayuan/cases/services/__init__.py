"""Every write to cases goes through these services (intake, transitions, units)."""

from jiayuan.cases.services.intake import open_case
from jiayuan.cases.services.transitions import act, act_as_reporter

__all__ = ["act", "act_as_reporter", "open_case"]
