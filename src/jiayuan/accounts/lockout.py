"""Log-in throttling (django-axes) with two limits: per (username, address) and per address.

Axes counts failures for each combination in ``AXES_LOCKOUT_PARAMETERS`` and compares the
largest count with one ``AXES_FAILURE_LIMIT``. One password tried over many accounts from one
address never reaches five failures for any one (username, address) pair, so the settings add
the address alone as a second combination; but an office behind one NAT address should not be
locked by five colleagues' typos. This handler therefore weighs the address-only count so that
it locks at ``JIAYUAN_LOGIN_IP_FAILURE_LIMIT`` failures (default 20) while the pair locks at
``AXES_FAILURE_LIMIT`` (default 5). A successful log-in clears only that user's own failures
from the address (axes would clear every failure from the address, so one valid account would
let a sprayer start again).
"""

from __future__ import annotations

import math
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum

DEFAULT_IP_FAILURE_LIMIT = 20


def ip_failure_limit() -> int:
    return int(getattr(settings, "JIAYUAN_LOGIN_IP_FAILURE_LIMIT", DEFAULT_IP_FAILURE_LIMIT))


def _address_only(parameter: Any) -> bool:
    return parameter == "ip_address" or list(parameter) == ["ip_address"]


class TwoLimitHandler(AxesDatabaseHandler):
    """Axes' database handler whose address-only count is scaled to its own limit."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        parameters = get_lockout_parameters(request, credentials)
        attempts = self.get_user_attempts(request, credentials)
        limit = get_failure_limit(request, credentials)
        per_ip = max(ip_failure_limit(), 1)
        counts = [0]
        for parameter, rows in zip(parameters, attempts, strict=False):
            n = rows.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if _address_only(parameter):
                # n failures from the address count as n·limit/per_ip towards ``limit``:
                # the address locks when n reaches per_ip.
                n = math.floor(n * limit / per_ip)
            counts.append(n)
        return max(counts)

    def reset_user_attempts(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """Delete the attempts of every combination but the address alone."""
        parameters = get_lockout_parameters(request, credentials)
        attempts = self.filter_user_attempts(request, credentials)
        count = 0
        for parameter, rows in zip(parameters, attempts, strict=False):
            if not _address_only(parameter):
                count += rows.delete()[0]
        return count
