"""Masking of personal data in lists (PIPL: show the minimum)."""

from __future__ import annotations

import re

# A mainland mobile number (11 digits from 1[3-9]), optionally after +86/0086, or a landline
# with its area code (0xx-xxxxxxxx), standing alone (not inside a longer run of digits).
_PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(?:(?:\+|00)86[- ]?)?(?:1[3-9][0-9](?:[- ]?[0-9]{4}){2}|0[1-9][0-9]{1,2}-?[0-9]{7,8})"
    r"(?![0-9])")


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``; short or empty values are masked whole."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str | None) -> str:
    """``张三丰`` → ``张**``; keeps the family name only."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(number: str | None) -> str:
    """An 18-digit resident ID keeps its first 6 and last 4 characters."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phones_in(text: str | None) -> str:
    """Every phone number in a free text masked as :func:`mask_phone` does."""
    if not text:
        return ""
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(re.sub(r"[- ]", "", m.group(0))), text)


def mask_email(email: str | None) -> str:
    """``zhang.san@example.com`` → ``z***@example.com``; a value without ``@`` is masked
    whole."""
    if not email:
        return ""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local:
        return "*" * len(email.strip())
    return f"{local[0]}***@{domain}"
