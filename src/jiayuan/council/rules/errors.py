"""The refusals of the consent-and-vote rules: one exception type, a stable code per refusal.

Every error carries a stable machine code (``error.code``), a Chinese message for people and,
where useful, ``details`` naming the offending dwelling, member or ballot. Raising one means the
count was not made: the rules never return a partial result from bad input.
"""

from __future__ import annotations

from typing import Any, Final

from jiayuan.core.errors import ValidationFailed

#: Every code the rules raise, with its default Chinese message. Codes are stable API.
CODES: Final[dict[str, str]] = {
    "unknown_matter": "未知的表决事项类型",
    "empty_electorate": "表决范围内没有专有部分，专有部分总面积为零",
    "invalid_area": "专有部分面积必须是大于零的精确数值（不接受浮点数）",
    "duplicate_dwelling": "表决范围内同一专有部分出现多次",
    "dwelling_without_owner": "专有部分没有登记业主",
    "unknown_choice": "未知的表决意见（应为同意、反对、弃权或废票）",
    "unknown_source": "未知的投票渠道（应为线上、纸质或委托）",
    "not_in_electorate": "选票所属专有部分不在本次表决范围内",
    "duplicate_ballot": "同一专有部分通过同一渠道重复投票",
    "not_an_owner": "投票人不是该专有部分的登记业主",
    "paper_without_staff": "纸质选票须注明录入的工作人员",
    "invalid_proxy": "委托投票没有对本次表决有效的授权委托书",
    "proxy_limit_exceeded": "同一受托人代理的专有部分超过议事规则允许的数量",
    "conflicting_ballots": "同一专有部分的业主本人选票意见不一致，须人工核实",
    "owner_split_vote": "同一业主名下多个专有部分的表决意见不一致，须人工核实",
    "invalid_threshold": "比例门槛必须在 0 到 1 之间",
    "empty_campaign": "征询对象名单为空",
    "duplicate_member": "征询对象名单中同一人出现多次",
    "not_a_member": "答复人不在本次征询对象名单内",
    "duplicate_answer": "同一征询对象重复答复",
}


class CouncilRuleError(ValidationFailed):
    """A refusal of the consent-and-vote rules; ``code`` is one of :data:`CODES`."""

    def __init__(self, code: str, message: str | None = None, *, details: Any = None) -> None:
        if code not in CODES:  # a programming error, not a domain refusal
            raise KeyError(f"unregistered council rule error code {code!r}")
        self.code = code
        super().__init__(message or CODES[code], details=details)
