"""Answers from retrieved rows: quote the clauses of the best rows that hold what was asked, cite each
row with its line and the quoted span, and refuse when nothing supports an answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from assistant.contract import Answer, CitationBook, Fact
from assistant.corpus import Corpus
from assistant.question import Question
from assistant.records import Commitment
from assistant.render import render

SENTENCE_END = "。;；!！?？\n"
CLAUSE_END = ",，、;；。"
STOP_CHARS = set("的了是在有和与及或多少几个什么哪些怎么如何吗呢请问要将把被对为于其这那年月日全市今")
GENERIC_WORDS = re.compile(r"湖州|全市|我市|本市|市里|全省|今年|全年|情况|怎么样|怎样|如何")  # in most rows
MAX_QUOTE = 160
MIN_SUPPORT = 0.34  # share of the question's content characters that the cited row must contain

# (query, k, filters) -> hits carrying metadata with source and line
Search = Callable[[str, int, dict[str, Any]], list[Any]]


def sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, ch in enumerate(text):
        if ch in SENTENCE_END:
            if text[start:i].strip():
                spans.append((start, i))
            start = i + 1
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, s = [], start
    for i in range(start, end):
        if text[i] in CLAUSE_END:
            if i > s:
                spans.append((s, i))
            s = i + 1
    if end > s:
        spans.append((s, end))
    return spans


def content_chars(text: str) -> set[str]:
    text = GENERIC_WORDS.sub(" ", text)
    han = {ch for ch in text if "\u4e00" <= ch <= "\u9fff" and ch not in STOP_CHARS}
    words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}|\d+(?:\.\d+)?", text)}
    return han | words


def _overlap(question: str, text: str, tokens: list[str]) -> float:
    lowered = text.lower()
    score = float(sum(len(t) for t in tokens if len(t) >= 2 and not GENERIC_WORDS.fullmatch(t)
                      and t.lower() in lowered))
    score += 0.2 * len(content_chars(question) & content_chars(text))
    return score


def best_quote(record: Commitment, question: str, tokens: list[str], wants_number: bool) -> str:
    """The sentence of the row that best matches the question, narrowed to a window of clauses if long."""
    text = record.text
    best, best_score = (0, len(text)), -1.0
    for s, e in sentences(text):
        score = _overlap(question, text[s:e], tokens)
        if wants_number and re.search(r"\d", text[s:e]):
            score += 0.5
        if score > best_score:
            best, best_score = (s, e), score
    s, e = best
    if e - s <= MAX_QUOTE:
        return text[s:e].strip()
    clauses = _clauses(text, s, e)
    scored = [(_overlap(question, text[a:b], tokens) + (0.5 if wants_number and re.search(r"\d", text[a:b]) else 0),
               n) for n, (a, b) in enumerate(clauses)]
    _, center = max(scored)
    lo = hi = center
    while True:
        grown = False
        for cand in (hi + 1, lo - 1):
            if 0 <= cand < len(clauses):
                a = clauses[min(lo, cand)][0]
                b = clauses[max(hi, cand)][1]
                if b - a <= MAX_QUOTE:
                    lo, hi = min(lo, cand), max(hi, cand)
                    grown = True
        if not grown:
            break
    return text[clauses[lo][0] : clauses[hi][1]].strip()


def first_quote(record: Commitment) -> str:
    """The row's first sentence, narrowed to its first clauses if long: what a summary quotes."""
    s, e = sentences(record.text)[0] if sentences(record.text) else (0, len(record.text))
    if e - s <= MAX_QUOTE:
        return record.text[s:e].strip()
    clauses = _clauses(record.text, s, e)
    end = clauses[0][1]
    for _, b in clauses[1:]:
        if b - s > MAX_QUOTE:
            break
        end = b
    return record.text[s:end].strip()


def supported(question: str, record: Commitment) -> bool:
    """Does the row share enough of the question's content to count as an answer?"""
    wanted = content_chars(question)
    if not wanted:
        return False
    have = content_chars(f"{record.department}{record.title}{record.text}{record.category or ''}")
    return len(wanted & have) / len(wanted) >= MIN_SUPPORT


class RowAnswerer:
    def __init__(self, corpus: Corpus, question: Question, search: Search, tokenize: Callable[[str], list[str]]):
        self.corpus, self.q, self.search, self.tokenize = corpus, question, search, tokenize
        self.book = CitationBook()
        self.facts: list[Fact] = []
        self.searched: list[dict[str, Any]] = []

    def _rows(self, query: str, filters: dict[str, Any], k: int = 5) -> list[Commitment]:
        self.searched.append({"query": query, "filters": filters, "k": k})
        rows = []
        for hit in self.search(query, k, filters):
            record = self.corpus.record_at(str(hit.metadata.get("source")), int(hit.metadata.get("line", 0)))
            if record is not None:
                rows.append(record)
        if self.q.kind_hint:  # a soft preference: rows of the hinted kind first, in their order
            rows.sort(key=lambda r: r.kind != self.q.kind_hint)
        return rows

    def _quote(self, record: Commitment, question: str) -> tuple[Commitment, str, int]:
        quote = best_quote(record, question, self.tokenize(question), self.q.wants_number)
        cite = self.book.cite_text(record, quote)
        self.facts.append(Fact(record.text_field, quote, (cite,), record.department, record.year))
        return record, quote, cite

    def filters(self, year: int | None = None) -> dict[str, Any]:
        f: dict[str, Any] = {}
        if len(self.q.departments) == 1:
            f["department"] = self.q.departments[0]
        if year is not None:
            f["year"] = year
        elif self.q.year is not None:
            f["year"] = self.q.year
        if self.q.category:
            f["category"] = self.q.category
        return f

    def content(self, extra_filters: dict[str, Any] | None = None) -> Answer:
        parts = self._parts()
        rendered: list[dict[str, Any]] = []
        nearest_rows: list[Commitment] = []
        any_found = False
        for label, text, year in parts:
            filters = {**self.filters(year), **(extra_filters or {})}
            rows = self._rows(text, filters)
            if rows and (self.q.lang == "en" or supported(text, rows[0])):
                any_found = True
                chosen = [self._quote(rows[0], text)]
                tokens = self.tokenize(text)
                for r in rows[1:3]:
                    quote = best_quote(r, text, tokens, self.q.wants_number)
                    if supported(text, r) and any(len(t) >= 2 and t in quote for t in tokens):
                        chosen.append(self._quote(r, text))
                rendered.append({"label": label, "rows": chosen})
            else:
                rendered.append({"label": label, "rows": []})
                nearest_rows += rows[:2]
        if not any_found:
            nearest = [self._quote(r, self.q.text) for r in nearest_rows[:2]]
            return self.refusal("检索到的记录都不包含问题所问的内容。", "no row holds what was asked.",
                                nearest=nearest)
        text = render("retrieval.j2", lang=self.q.lang, parts=rendered)
        return self._answer(text, "retrieval")

    def _parts(self) -> list[tuple[str, str, int | None]]:
        """A question about two years (…2022年…,2023年…) is answered part by part."""
        if len(self.q.years) < 2:
            return [("", self.q.text, None)]
        pieces = [p for p in re.split(r"[,，;；]", self.q.text) if p.strip()]
        parts: list[tuple[str, str, int | None]] = []
        for piece in pieces:
            years = [y for y in self.q.years if str(y) in piece]
            if len(years) == 1:
                parts.append((f"{years[0]}年", piece, years[0]))
            elif parts:
                label, text, year = parts[-1]
                parts[-1] = (label, text + "," + piece, year)
        if len(parts) < 2:
            return [(f"{y}年", self.q.text, y) for y in self.q.years]
        return parts

    def _answer(self, text: str, mode: str) -> Answer:
        searched = {"rows": len(self.corpus.records),
                    "filters": self.searched[0]["filters"] if len(self.searched) == 1 else
                    [s["filters"] for s in self.searched],
                    "method": "hybrid retrieval (dense + BM25), top 5 per query"}
        return Answer(self.q.text, text, mode, self.book.citations, self.facts, searched,  # type: ignore[arg-type]
                      self.q.intent)

    def refusal(self, reason: str, reason_en: str, candidates: list[str] | None = None,
                nearest: list[tuple[Commitment, str, int]] | None = None,
                filters: dict[str, Any] | None = None) -> Answer:
        filters = filters if filters is not None else (self.searched[0]["filters"] if self.searched else {})
        filters_text = ", ".join(f"{k}={v}" for k, v in filters.items())
        self.facts.append(Fact("检索的记录数", len(self.corpus.records), (), method="every row of every source"))
        text = render("refusal.j2", lang=self.q.lang, reason=reason, reason_en=reason_en,
                      searched_rows=len(self.corpus.records), filters_text=filters_text,
                      candidates=candidates or [], nearest=nearest or [])
        answer = self._answer(text, "refusal")
        if not self.searched:
            answer.searched = {"rows": len(self.corpus.records), "filters": filters, "method": "facts over all rows"}
        return answer
