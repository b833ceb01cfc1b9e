"""Each outcome's status against its own target: exceeded, met, partial or not stated.

Exceeded means the outcome beats its own target: 超额完成, 超承诺 N, a 完成率 above 100%, or a delivered
number above the number the commitment's title promised, in the same unit. Not signs of exceeding:
超额配售权 (an IPO over-allotment option), 超8200户 ("more than 8200"), 完成率位居全省第1 (a rank).

A title that promises a place (居全省前三, 保持全国第一) is compared with the place the outcome gives about the
same thing (资金数居全省第3): within the promised top N is met; a better place than a promised Nth is exceeded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from assistant.quantities import Quantity, cn_to_int, quantities
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
REGION = re.compile(r"全国|全省|全市|省内|国内|长三角")
# A place in a ranking: 居全省前三, 排名第2, 保持全国第一; not 前三季度, 第一批, 第2家 (ordinals of other things).
PLACE = re.compile(
    rf"(?:{REGION.pattern}|排名|排位|位居|位列|居|列|保持|争创|进入|跻身|稳居)[^,，;；。、前第]{{0,6}}?"
    r"(?P<top>前|第)(?P<n>\d+|[一二两三四五六七八九十]+)(?![\d一二两三四五六七八九十]*(?:批|届|次|季|期|家|个|项|条|章|年|月|天|轮|阶段|部分))"
)


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
    promised = max((c for c in (_promise_comparison(record), _place_comparison(record)) if c is not None),
                   key=lambda c: _rank(c.label), default=None)
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
        if not promise.unit or promise.is_date or _is_place(record.title, promise):
            continue
        for delivered in quantities(record.text):
            if delivered.is_date or delivered.base_unit != promise.base_unit or _is_place(record.text, delivered):
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


def _is_place(text: str, quantity: Quantity) -> bool:
    """第12名, 前10位: a place in a ranking (compared by _place_comparison), not an amount of people."""
    return quantity.start > 0 and text[quantity.start - 1] in "前第"


def _place_comparison(record: Commitment) -> Status | None:
    """The title promises a place (前N: within the top N; 第N: the Nth): compare with each place the outcome
    gives about the same thing (the words before the two share a pair of characters, as 全省 does)."""
    best: Status | None = None
    for promise in PLACE.finditer(record.title):
        wanted = cn_to_int(promise.group("n"))
        if not wanted:
            continue
        for given in PLACE.finditer(record.text):
            got = cn_to_int(given.group("n"))
            before_promise, before_given = record.title[: promise.start("top")], record.text[: given.start("top")]
            regions = {found[-1] for found in (REGION.findall(before_promise[-8:]), REGION.findall(before_given[-8:]))
                       if found}
            if not got or len(regions) > 1 or not _same_words(before_promise, before_given):
                continue  # another thing, or the same thing ranked in another region
            if promise.group("top") == "前":  # within the top N: any place up to N meets it
                label: Label = "met" if got <= wanted else "partial"
            else:  # the Nth: a better place exceeds it (a given 前M with M < N is at worst the Mth)
                label = "exceeded" if got < wanted else "met" if got == wanted else "partial"
            reason = f"the title promises {promise.group(0)}, the outcome gives {given.group(0)}"
            status = _status(label, reason, record.text, given.start("top"), given.end())
            if best is None or _rank(label) > _rank(best.label):
                best = status
    return best


def _same_words(before_title: str, before_text: str) -> bool:
    """The six characters before a promise and before what is delivered share a pair of characters."""
    a, b = before_title[-6:], before_text[-6:]
    pairs = {a[i : i + 2] for i in range(len(a) - 1)}
    return any(b[i : i + 2] in pairs for i in range(len(b) - 1))


def _rank(label: Label) -> int:
    return {"not_stated": 0, "partial": 1, "met": 2, "exceeded": 3}[label]


def _same_subject(title: str, promise: Quantity, text: str, delivered: Quantity) -> bool:
    return _same_words(title[: promise.start], text[: delivered.start])
