"""Small builders for the rules tests: dwellings, electorates and ballots in one line each."""

from __future__ import annotations

from decimal import Decimal

from jiayuan.council.rules import Ballot, Choice, Dwelling, Electorate, Proxy, Scope, Source


def flat(dwelling_id: str, area: str | int, *owners: str) -> Dwelling:
    """A dwelling of ``area`` m² (decimal text) owned by ``owners`` (default: "o-<id>")."""
    return Dwelling(dwelling_id, Decimal(str(area)), frozenset(owners or (f"o-{dwelling_id}",)))


def electorate(*dwellings: Dwelling, scope: Scope = Scope.COMPOUND,
               code: str = "310101002003") -> Electorate:
    return Electorate(scope, code, tuple(dwellings))


def equal_flats(n: int, area: str | int = 100) -> Electorate:
    """``n`` dwellings d1..dn of equal area, each with its own single owner."""
    return electorate(*(flat(f"d{i}", area) for i in range(1, n + 1)))


def online(dwelling_id: str, choice: Choice, by: str | None = None) -> Ballot:
    return Ballot(dwelling_id, choice, Source.ONLINE, by or f"o-{dwelling_id}")


def paper(dwelling_id: str, choice: Choice, by: str | None = None,
          staff: str | None = "staff-1") -> Ballot:
    return Ballot(dwelling_id, choice, Source.PAPER, by or f"o-{dwelling_id}", staff)


def by_proxy(dwelling_id: str, choice: Choice, holder: str) -> Ballot:
    return Ballot(dwelling_id, choice, Source.PROXY, holder)


def proxy(dwelling_id: str, holder: str, vote_id: str = "v1", granted_by: str | None = None,
          revoked: bool = False) -> Proxy:
    return Proxy(dwelling_id, granted_by or f"o-{dwelling_id}", holder, vote_id, revoked)


def ballots(choices: str) -> list[Ballot]:
    """Online ballots from a compact string: position i is dwelling d<i+1>.

    ``y`` yes, ``n`` no, ``a`` abstain, ``s`` spoiled, ``.`` did not vote.
    """
    code = {"y": Choice.YES, "n": Choice.NO, "a": Choice.ABSTAIN, "s": Choice.SPOILED}
    return [online(f"d{i}", code[c]) for i, c in enumerate(choices, start=1) if c != "."]
