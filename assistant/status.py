"""Each outcome's status against its own target: exceeded, met, partial or not stated.

Exceeded means the outcome beats its own target: 超额完成, 超承诺 N, a 完成率 above 100%, or a delivered
number above the number the commitment's title promised, in the same unit. Not signs of exceeding:
超额配售权 (an IPO over-allotment option), 超8200户 ("more than 8200"), 完成率位居全省第1 (a rank).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from assistant.quantities import Quantity, quantities
from assistant.records import Commitment

Label = Literal["exceeded", "met", "partial", "not_stated"]
LABELS: tuple[Label, ...] = ("exceeded", "met", "partial", "not_stated")  # what each is called: status_labels.j2

EXCEEDED_WORDS = re.compile(r"超额(?:完成|实现|达成)(?!.{0,2}配售)|超(?:年中|年初|全年)?承诺(?:\d+(?:\.\d+)?\S?)?")
RATE = re.compile(
    r"完成(?:率|年度目标|全年目标|年度计划|全年计划|全年任务)(?:为|达到|达)?(?P<rate>\d+(?:\.\d+)?)%"
)
MET_WORDS = re.compile(
    r"(?<!超额)(?:均已|已经|已|全面|圆满|如期|按期|提前)?完成(?:了)?(?:全年|年度|年内)(?:目标|任务|计划)(?!\d)"
    r"|全部到位|全面完成|全部完成|全面完工"
)
PARTIAL_WORDS = re.compile(r"正在进行|进行中|有望|尚未|待.{0,10}(?:发文|开工|审批|批复)|(?<!奋)力争(?!取)")
CLAUSE_END = ",，;；。!！?？"


@dataclass(frozen=True)
class Status:
    label: Label
    reason: str
    evidence: str  # the clause of the text that shows it ("" when not stated)
    start: int = 0  # span of the evidence in the record's text
    end: int = 0


def clause(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span to its clause, between punctuation marks."""
    left = start
    while left > 0 and text[left - 1] not in CLAUSE_END:
        left -= 1
    right = end
    while right < len(text) and text[right] not in CLAUSE_END:
        right += 1
    return left, right


def _status(label: Label, reason: str, text: str, start: int, end: int) -> Status:
    left, right = clause(text, start, end)
    return Status(label, reason, text[left:right], left, right)


def outcome_status(record: Commitment) -> Status | None:
    """None for targets: only outcomes are measured against a target."""
    if record.kind != "outcomes":
        return None
    text = record.text
    found = EXCEEDED_WORDS.search(text)
    if found:
        return _status("exceeded", f"the outcome says {found.group(0)}", text, found.start(), found.end())
    rates = [(Decimal(m.group("rate")), m) for m in RATE.finditer(text)]
    above = [(r, m) for r, m in rates if r > 100]
    if above:
        _, m = max(above, key=lambda pair: pair[0])
        return _status("exceeded", f"completion rate {m.group('rate')}% is above 100%", text, m.start(), m.end())
    promised = _promise_comparison(record)
    if promised is not None and promised.label == "exceeded":
        return promised
    below = [(r, m) for r, m in rates if r < 100]
    if below:
        _, m = min(below, key=lambda pair: pair[0])
        return _status("partial", f"completion rate {m.group('rate')}% is below 100%", text, m.start(), m.end())
    if promised is not None:
        return promised
    if rates:
        m = rates[0][1]
        return _status("met", f"completion rate {m.group('rate')}%", text, m.start(), m.end())
    found = MET_WORDS.search(text)
    if found:
        return _status("met", f"the outcome says {found.group(0)}", text, found.start(), found.end())
    found = PARTIAL_WORDS.search(text)
    if found:
        return _status("partial", f"the outcome says {found.group(0)}: not yet complete", text, found.start(),
                       found.end())
    return Status("not_stated", "the outcome states no completion against the target", "")


def _promise_comparison(record: Commitment) -> Status | None:
    """The title promises a number (破冰关键技术100项): compare with the delivered number in the same unit
    and about the same thing (their words before the number share a pair of characters)."""
    best: Status | None = None
    for promise in quantities(record.title):
        if not promise.unit or promise.is_date:
            continue
        for delivered in quantities(record.text):
            if delivered.is_date or delivered.base_unit != promise.base_unit:
                continue
            if not _same_subject(record.title, promise, record.text, delivered):
                continue
            p, d = promise.scaled(), delivered.scaled()
            label: Label = "exceeded" if d > p else "met" if d == p else "partial"
            reason = f"the title promises {promise.raw}, the outcome gives {delivered.raw}"
            status = _status(label, reason, record.text, delivered.start, delivered.end)
            if best is None or _rank(label) > _rank(best.label):
                best = status
    return best


def _rank(label: Label) -> int:
    return {"not_stated": 0, "partial": 1, "met": 2, "exceeded": 3}[label]


def _same_subject(title: str, promise: Quantity, text: str, delivered: Quantity) -> bool:
    before_p = title[max(0, promise.start - 6) : promise.start]
    before_d = text[max(0, delivered.start - 6) : delivered.start]
    pairs = {before_p[i : i + 2] for i in range(len(before_p) - 1)}
    return any(before_d[i : i + 2] in pairs for i in range(len(before_d) - 1))
