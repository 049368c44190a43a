"""The zh_Hans catalogue: every msgid translated, the compiled .mo current, no msgid missing."""

from __future__ import annotations

import re
from pathlib import Path

import polib

SRC = Path(__file__).resolve().parents[2]  # src/jiayuan
PO = SRC / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

TEMPLATE_MSGID = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")
PY_MSGID = re.compile(r"""\b(?:_|gettext|gettext_lazy|pgettext_lazy)\(\s*"((?:[^"\\]|\\.)+)"\s*\)""")


def _entries(catalogue) -> dict[str, str]:
    return {e.msgid: e.msgstr for e in catalogue if not e.obsolete}


def test_every_msgid_has_a_chinese_translation():
    po = polib.pofile(str(PO))
    untranslated = [e.msgid for e in po if not e.obsolete and e.fuzzy or not (
        e.msgstr_plural.get(0) if e.msgid_plural else e.msgstr)]
    assert untranslated == []


def test_compiled_catalogue_matches_the_po(tmp_path):
    # Compile the .po with polib and compare what it says with the committed .mo.
    fresh = tmp_path / "django.mo"
    polib.pofile(str(PO)).save_as_mofile(str(fresh))
    assert _entries(polib.mofile(str(MO))) == _entries(polib.mofile(str(fresh)))


def test_no_template_or_code_msgid_is_missing_from_the_catalogue():
    known = set(_entries(polib.pofile(str(PO))))
    missing = set()
    for path in SRC.rglob("*.html"):
        if "/tests/" in str(path):
            continue
        for _q, msgid in TEMPLATE_MSGID.findall(path.read_text(encoding="utf-8")):
            if msgid not in known:
                missing.add(f"{path.relative_to(SRC)}: {msgid}")
    for path in SRC.rglob("*.py"):
        if "/tests/" in str(path) or "/migrations/" in str(path):
            continue
        for msgid in PY_MSGID.findall(path.read_text(encoding="utf-8")):
            msgid = msgid.encode().decode("unicode_escape") if "\\" in msgid else msgid
            if msgid not in known:
                missing.add(f"{path.relative_to(SRC)}: {msgid}")
    assert sorted(missing) == [], "run `jiayuan makemessages -l zh_Hans` and translate"
