"""Every write of the care register (one function per business action)."""

from jiayuan.care.services.register import register_elder, update_elder
from jiayuan.care.services.signals import record_signal
from jiayuan.care.services.tasks import assign_task, complete_task, raise_task
from jiayuan.care.services.visits import log_visit

__all__ = ["assign_task", "complete_task", "log_visit", "raise_task", "record_signal",
           "register_elder", "update_elder"]
