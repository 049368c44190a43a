"""The consent-and-vote rules: pure, exact, auditable. No Django.

* :mod:`.owners` — owners' decisions under PRC Civil Code art. 278 (area and headcount,
  participation quorum, 3/4 or more-than-half approval), proxies, paper ballots, digests.
* :mod:`.consent` — written consent of a defined group (unanimity or a share).
* :mod:`.exact` — exact arithmetic, bounds (以上 / 过半数) and canonical digests.
* :mod:`.errors` — :class:`CouncilRuleError` with stable codes and Chinese messages.

See docs/council-rules.md for the rules with the article text and sources.
"""

from jiayuan.council.rules.consent import (
    Answer,
    AnswerSource,
    ConsentAnswer,
    ConsentCampaign,
    ConsentResult,
    ConsentRule,
    ConsentStatus,
    tally_consent,
)
from jiayuan.council.rules.errors import CODES, CouncilRuleError
from jiayuan.council.rules.exact import Bound, canonical_json, digest, meets
from jiayuan.council.rules.owners import (
    ARTICLE_278,
    Ballot,
    Choice,
    Count,
    Criterion,
    Dwelling,
    Electorate,
    Matter,
    Outcome,
    OwnersDecision,
    Proxy,
    Rule,
    Scope,
    Source,
    decide,
    parse_matter,
    rule_for,
    verify,
)

__all__ = [
    "ARTICLE_278", "CODES", "Answer", "AnswerSource", "Ballot", "Bound", "Choice",
    "ConsentAnswer", "ConsentCampaign", "ConsentResult", "ConsentRule", "ConsentStatus", "Count",
    "CouncilRuleError", "Criterion", "Dwelling", "Electorate", "Matter", "Outcome",
    "OwnersDecision", "Proxy", "Rule", "Scope", "Source", "canonical_json", "decide", "digest",
    "meets", "parse_matter", "rule_for", "tally_consent", "verify",
]
