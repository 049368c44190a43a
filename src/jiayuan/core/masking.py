"""Masking of personal data in lists (PIPL: show the minimum)."""

from __future__ import annotations


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
