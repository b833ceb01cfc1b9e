"""The number guard: a rewritten answer reaches the user only if every number in it is in the facts or a
cited row, every [n] marker points to a citation, and every sentence carries a citation."""

from __future__ import annotations

import re
import unicodedata

from assistant.contract import Answer

MARKER = re.compile(r"\[(\d+)\]")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
SENTENCE = re.compile(r"[^。！？!?\n]+(?:[。！？!?]+|$)")


def numbers(text: str) -> set[str]:
    plain = MARKER.sub(" ", unicodedata.normalize("NFKC", text))
    return {n.replace(",", "") for n in NUMBER.findall(plain)}


def check(text: str, draft: Answer, rows: dict[int, str]) -> list[str]:
    """Problems with `text` as an answer backed by `draft`'s facts and citations; [] when it may be shown."""
    problems = []
    support = numbers(draft.question)
    for fact in draft.facts:
        support |= numbers(str(fact.value)) | numbers(fact.method or "")
    for cite in draft.citations:
        support |= numbers(rows.get(cite.id, "")) | numbers(cite.quote)
    support |= {str(c.year) for c in draft.citations}
    unsupported = sorted(n for n in numbers(text) if n not in support and n.rstrip("0").rstrip(".") not in support)
    if unsupported:
        problems.append(f"numbers not in the facts or cited rows: {', '.join(unsupported)}")
    ids = {c.id for c in draft.citations}
    bad = sorted({int(m) for m in MARKER.findall(text)} - ids)
    if bad:
        problems.append(f"markers without a citation: {', '.join(f'[{b}]' for b in bad)}")
    uncited = [s.strip() for s in SENTENCE.findall(text) if len(s.strip(" -*#>\t")) > 3 and not MARKER.search(s)]
    if uncited:
        problems.append(f"sentences without a citation: {uncited[0][:40]!r}" + (f" and {len(uncited) - 1} more"
                                                                                 if len(uncited) > 1 else ""))
    if not text.strip():
        problems.append("empty answer")
    elif draft.citations and not MARKER.search(text):
        problems.append("no citation marker")  # a short reply escapes the per-sentence rule, not this one
    return problems
