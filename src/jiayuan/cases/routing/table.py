"""The routing table: category + place → tier, lead unit and assisting units, as editable data.

A rule says "cases of *category* in *place* go to *lead* (with *assisting*), closed at
*tier*". Patterns:
- ``category``: an exact code ``06028``, a prefix ``06*`` (the whole major class), or ``*``;
- ``place``: a materialised path prefix ``310115/310115004/`` (that subdistrict and everything
  inside it), or empty for the whole district; optionally ``place_kind`` (e.g. ``village``,
  ``old_public``) which the case's place must carry.

``resolve`` picks the most specific matching rule: deepest place prefix, then a rule with a
place kind over one without, then the most specific category (exact > longer prefix > ``*``),
then higher ``priority``, then the smallest ``rule_id``, so the answer never depends on the
order the rules are listed in. No matching rule → ``NoRouteFound`` (the case goes to triage).

Unit references are strings the case service resolves against the registry:
``dept:<Department.kind>`` (the department of that kind serving the case's subdistrict, or the
district's), and ``role:<name>`` (``residents_committee``, ``property_company``,
``joint_station``, ``operations_centre``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from jiayuan.cases.routing.errors import NoRouteFound, RoutingTableInvalid

Tier = Literal["neighbourhood", "cross_department", "operations_centre"]
TIERS: tuple[Tier, ...] = ("neighbourhood", "cross_department", "operations_centre")
_CATEGORY = re.compile(r"^(\*|[0-9A-Za-z]+\*?)$")
_PATH = re.compile(r"^([0-9A-Za-z]+/)*$")
_UNIT = re.compile(r"^(dept|role):[a-z_]+$")


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    category: str
    place: str
    tier: Tier
    lead: str
    assisting: tuple[str, ...] = ()
    priority: int = 0
    place_kind: str = ""

    def matches(self, category: str, place_path: str, place_kinds: Collection[str]) -> bool:
        if self.place_kind and self.place_kind not in place_kinds:
            return False
        if not place_path.startswith(self.place):
            return False
        if self.category == "*":
            return True
        if self.category.endswith("*"):
            return category.startswith(self.category[:-1])
        return category == self.category

    def specificity(self) -> tuple[int, int, int, int]:
        """Bigger is more specific: place depth, has place kind, category, priority."""
        depth = self.place.count("/")
        if self.category == "*":
            cat = 0
        elif self.category.endswith("*"):
            cat = len(self.category) - 1
        else:
            cat = 1000 + len(self.category)
        return (depth, 1 if self.place_kind else 0, cat, self.priority)


@dataclass(frozen=True, slots=True)
class Route:
    """Who takes the case: the rule that decided, the tier, the lead and assisting units."""

    rule_id: str
    tier: Tier
    lead: str
    assisting: tuple[str, ...]


def _sort_key(rule: Rule) -> tuple[int, int, int, int, str]:
    depth, kind, cat, prio = rule.specificity()
    return (-depth, -kind, -cat, -prio, rule.rule_id)


def resolve(category: str, place_path: str, rules: Iterable[Rule], *,
            place_kinds: Collection[str] = ()) -> Route:
    """The route for a case of ``category`` at ``place_path`` (a materialised path).

    Refuses with ``NoRouteFound`` when no rule matches: the case waits in manual triage.
    """
    if place_path and not place_path.endswith("/"):
        place_path += "/"
    matching = [r for r in rules if r.matches(category, place_path, place_kinds)]
    if not matching:
        raise NoRouteFound(f"类别 {category} 在 {place_path or '本区'} 没有适用的派单规则，请转人工分拨")
    best = min(matching, key=_sort_key)
    return Route(rule_id=best.rule_id, tier=best.tier, lead=best.lead, assisting=best.assisting)


def validate_rules(rules: Sequence[Rule]) -> None:
    """Refuse (``RoutingTableInvalid``, every problem listed) a table with duplicate rule ids,
    malformed category patterns or place paths, unknown tiers or malformed unit references."""
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, r in enumerate(rules, start=1):
        def bad(column: str, message: str, i: int = i, r: Rule = r) -> None:
            problems.append({"row": i, "rule_id": r.rule_id, "column": column,
                             "message": message})
        if not r.rule_id:
            bad("rule_id", "规则编号不能为空")
        elif r.rule_id in seen:
            bad("rule_id", f"规则编号 {r.rule_id} 重复")
        seen.add(r.rule_id)
        if not _CATEGORY.match(r.category):
            bad("category", f"类别“{r.category}”格式不对（应为代码、代码前缀加 *、或 *）")
        if not _PATH.match(r.place):
            bad("place", f"地点路径“{r.place}”格式不对（应如 310115/310115004/，或留空表示全区）")
        if r.tier not in TIERS:
            bad("tier", f"闭环层级“{r.tier}”无效（可用：{'、'.join(TIERS)}）")
        for ref in (r.lead, *r.assisting):
            if not _UNIT.match(ref):
                bad("lead" if ref == r.lead else "assisting",
                    f"单位引用“{ref}”格式不对（应如 dept:city_management 或 role:residents_committee）")
    if problems:
        raise RoutingTableInvalid(f"派单规则表有 {len(problems)} 处错误", details=problems)


def conflicts(rules: Sequence[Rule]) -> list[tuple[str, str]]:
    """Pairs of rules with the same pattern and priority: ``resolve`` picks the smaller id,
    but staff probably meant something else. Listed so the editor can warn."""
    groups: dict[tuple[str, str, str, int], list[str]] = {}
    for r in rules:
        groups.setdefault((r.category, r.place, r.place_kind, r.priority), []).append(r.rule_id)
    out: list[tuple[str, str]] = []
    for ids in groups.values():
        ids = sorted(ids)
        out.extend((ids[0], other) for other in ids[1:])
    return sorted(out)


def parse_rules_csv(text: str) -> list[Rule]:
    """Parse a routing table (columns rule_id, category, place, place_kind, tier, lead,
    assisting, priority; ``assisting`` joined by ``|``; ``#`` lines are comments), validated."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    rules: list[Rule] = []
    problems: list[dict[str, Any]] = []
    for i, row in enumerate(reader, start=1):
        try:
            priority = int((row.get("priority") or "0").strip() or "0")
        except ValueError:
            problems.append({"row": i, "column": "priority",
                             "message": f"优先级“{row.get('priority')}”不是整数"})
            continue
        place = (row.get("place") or "").strip()
        if place and not place.endswith("/"):
            place += "/"
        rules.append(Rule(
            rule_id=(row.get("rule_id") or "").strip(),
            category=(row.get("category") or "").strip(),
            place=place,
            tier=cast(Tier, (row.get("tier") or "").strip()),
            lead=(row.get("lead") or "").strip(),
            assisting=tuple(a.strip() for a in (row.get("assisting") or "").split("|")
                            if a.strip()),
            priority=priority,
            place_kind=(row.get("place_kind") or "").strip(),
        ))
    if problems:
        raise RoutingTableInvalid(f"派单规则表有 {len(problems)} 处错误", details=problems)
    validate_rules(rules)
    return rules


def load_rules(path: str | Path | None = None) -> list[Rule]:
    """Load a routing table from ``path``, or the default table shipped with the code."""
    if path is None:
        text = (resources.files("jiayuan.cases.routing") / "data" / "routing_table.csv"
                ).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8-sig")
    return parse_rules_csv(text)
