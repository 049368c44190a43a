"""The ``jiayuan`` command: friendly sub-commands over Django's management commands.

    jiayuan demo [--port N] [--scale street|pudong]   fresh demo district on SQLite, served
    jiayuan serve [--port N] [--host H]               the web process (waitress)
    jiayuan worker                                    the background worker
    jiayuan generate --scale street|pudong [--seed S] the synthetic district
    jiayuan import FILE [--sheet KIND] [--crs gcj02]  registry from .xlsx/.csv
    jiayuan export FILE                               registry to .xlsx (or a folder of .csv)
    jiayuan cases measures rebuild|refresh            the case measures' monthly roll-up
    jiayuan calendar import FILE | show YEAR          the working calendar (holidays, 调休)
    jiayuan rental check ROOMS --out RESULT           rental-housing rules, per unit (stores nothing)
    jiayuan createuser USERNAME --role ROLE --area CODE …
    jiayuan migrate | shell | check | …               any Django management command
"""

from __future__ import annotations

import os
import sys

# Sub-commands whose Django command has another name; multi-word commands first.
ALIASES: dict[tuple[str, ...], str] = {
    ("import",): "registry_import",
    ("export",): "registry_export",
    ("worker",): "worker",
    ("index", "compute"): "index_compute",
    ("index", "run"): "index_run",
    ("cases", "classifier"): "cases_classifier",
    ("cases", "import"): "cases_import",
    ("cases", "measures"): "cases_measures",
    ("simulate", "sensors"): "simulate_sensors",
}


def resolve(argv: list[str]) -> list[str]:
    for n in (2, 1):
        key = tuple(argv[:n])
        if len(key) == n and key in ALIASES:
            return [ALIASES[key], *argv[n:]]
    return argv


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.config.settings")
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["jiayuan", *resolve(args)])


if __name__ == "__main__":
    main()
