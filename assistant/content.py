"""Rows by their content: set matching over every row in scope (exact phrase, jieba tokens, dense
paraphrases above a threshold), and content lookups that quote the clause holding the asked quantity."""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from assistant.corpus import Corpus
from assistant.lexicon import Lexicon
from assistant.quantities import Quantity
from assistant.query import Measure, Query
from assistant.records import Commitment
from assistant.status import Status, outcome_status

SENTENCE_END = "。;；!！?？\n"
CLAUSE_END = ",，、;；。:："
STOP_CHARS = set("的了是在有和与及或多少几个什么哪些怎么如何吗呢请问要将把被对为于其这那年月日全市今去")
GENERIC = re.compile(r"湖州|全市|我市|本市|市里|全省|今年|去年|全年|当年|情况|怎么样|怎样|如何|多少|几个|几家")
MAX_QUOTE = 160
MIN_SUPPORT = 0.34  # share of the question's content characters that the cited row must contain
DENSE_THRESHOLD = 0.88  # cosine of e5 (query: / passage:) above which a row counts as about a concept

Search = Callable[[str, int, dict[str, Any]], list[Any]]
Tokenize = Callable[[str], list[str]]


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


SAMPLE = 400_000  # characters of the joined text that estimate how common a word is


class TextIndex:
    """Every row's normalised title and text in one string, so that finding the rows that hold a phrase is one
    scan in C rather than a Python loop over the rows (a set question over 100,000 rows)."""

    def __init__(self, records: Sequence[Commitment]):
        texts = [norm(f"{r.title}{r.text}") for r in records]
        self.records = records
        self.position = {id(r): i for i, r in enumerate(records)}
        self.starts: list[int] = []
        at = 0
        for t in texts:
            self.starts.append(at)
            at += len(t) + 1
        self.joined = "\0".join(texts)  # NUL never survives norm() in a row or a phrase
        self._sample = self.joined[:SAMPLE]
        self._numbers: NumberIndex | None = None

    def numbers(self) -> NumberIndex:
        """The numbers of every row's text by unit and value, built on the first question that compares one."""
        if self._numbers is None:
            from assistant.corpus import keep_out_of_full_collections

            self._numbers = NumberIndex(self.records)
            keep_out_of_full_collections()
        return self._numbers

    def text(self, row: int) -> str:
        end = self.starts[row + 1] - 1 if row + 1 < len(self.starts) else len(self.joined)
        return self.joined[self.starts[row]:end]

    def rows_with_most(self, words: Sequence[str], needed: int) -> set[int]:
        """The rows that hold at least `needed` of `words`. Only the rarest words are scanned for (a row must
        hold one of the len(words) - needed + 1 rarest); the candidates are then checked one by one."""
        order = sorted(set(words), key=self._sample.count)  # how common, estimated on a sample
        if needed > len(order) or needed <= 0:
            return set()
        candidates = set().union(*(self.rows_with(w) for w in order[: len(order) - needed + 1]))
        if needed == 1:
            return candidates
        return {row for row in candidates if sum(1 for w in order if w in self.text(row)) >= needed}

    def rows_with(self, wanted: str) -> set[int]:
        """The positions of the rows whose normalised text holds `wanted`."""
        found: set[int] = set()
        if not wanted:
            return found
        at = self.joined.find(wanted)
        while at != -1:
            row = bisect_right(self.starts, at) - 1
            found.add(row)
            after = self.starts[row + 1] if row + 1 < len(self.starts) else len(self.joined)
            at = self.joined.find(wanted, after)
        return found


def number_key(quantity: Quantity) -> tuple[str, bool]:
    """The base unit (元 dropped: 亿 and 亿元 are one money unit) and whether a magnitude (万, 亿) is written."""
    return quantity.base_unit.removesuffix("元") or quantity.base_unit, bool(quantity.magnitude)


class NumberIndex:
    """Every number in the rows' text (dates left out), by unit, sorted by its value in base units: a
    comparison (超过1000家, at least 300亿元) is a range of one sorted list, not a parse of every row."""

    def __init__(self, records: Sequence[Commitment]):
        from assistant.quantities import quantities

        found: dict[tuple[str, bool], list[tuple[Decimal, int, Quantity]]] = {}
        for i, r in enumerate(records):
            for q in quantities(r.text):
                if not q.is_date:
                    found.setdefault(number_key(q), []).append((q.scaled(), i, q))
        self.records = records
        self.lists = {key: sorted(entries, key=lambda e: (e[0], e[1], e[2].start)) for key, entries in found.items()}
        self.values = {key: [e[0] for e in entries] for key, entries in self.lists.items()}

    def between(self, unit: tuple[str, bool], low: Decimal | None, high: Decimal | None, low_open: bool,
                high_open: bool) -> list[tuple[int, Quantity]]:
        """(row, number) for the numbers of the unit within the bounds: a bare number only where a magnitude is
        written on both sides (a sum of money), any magnitude for a unit (家, 户, %)."""
        keys = [(unit[0], True)] if not unit[0] else [(unit[0], True), (unit[0], False)]
        if not unit[0] and not unit[1]:
            return []
        out = []
        for key in keys:
            values, entries = self.values.get(key, []), self.lists.get(key, [])
            start = 0 if low is None else (bisect_right(values, low) if low_open else bisect_left(values, low))
            end = len(values) if high is None else (bisect_left(values, high) if high_open else
                                                    bisect_right(values, high))
            out += [(row, q) for _, row, q in entries[start:end]]
        return sorted(out, key=lambda pair: (pair[0], pair[1].start))


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


def clauses(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    end = len(text) if end is None else end
    spans, s = [], start
    for i in range(start, end):
        if text[i] in CLAUSE_END:
            if i > s:
                spans.append((s, i))
            s = i + 1
    if end > s:
        spans.append((s, end))
    return spans


def clause_at(text: str, at: int) -> str:
    """The clause of the text that holds position `at` (the span of clauses() around it), found by a few
    searches in C rather than a walk over every character."""
    start = max(text.rfind(ch, 0, at) for ch in CLAUSE_END) + 1
    ends = [i for i in (text.find(ch, at) for ch in CLAUSE_END) if i != -1]
    return text[start:min(ends) if ends else len(text)]


def first_quote(record: Commitment) -> str:
    """The row's first sentence, narrowed to its first clauses if long: what a summary quotes."""
    spans = sentences(record.text)
    s, e = spans[0] if spans else (0, len(record.text))
    if e - s <= MAX_QUOTE:
        return record.text[s:e].strip()
    end = s
    for _, b in clauses(record.text, s, e):
        if b - s > MAX_QUOTE and end > s:
            break
        end = b
    return record.text[s:end].strip()


def sentence_statuses(record: Commitment) -> list[tuple[str, Status | None, int, int]]:
    """Each sentence of an outcome with its own status (targets have none)."""
    out = []
    for s, e in sentences(record.text):
        sentence = record.text[s:e].strip()
        status = outcome_status(dataclasses.replace(record, text=sentence))
        out.append((sentence, status, s, e))
    return out


def content_chars(text: str) -> set[str]:
    text = GENERIC.sub(" ", text)
    han = {ch for ch in text if "\u4e00" <= ch <= "\u9fff" and ch not in STOP_CHARS}
    words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}|\d+(?:\.\d+)?", text)}
    return han | words


def supported(question: str, record: Commitment) -> bool:
    wanted = content_chars(question)
    if not wanted:
        return False
    have = content_chars(f"{record.department}{record.title}{record.text}{record.category or ''}")
    return len(wanted & have) / len(wanted) >= MIN_SUPPORT


class ContentFinder:
    def __init__(self, corpus: Corpus, lexicon: Lexicon, tokenize: Tokenize | None = None,
                 search: Search | None = None, dense: Search | None = None,
                 text_index: Callable[[], TextIndex] | None = None):
        self.corpus, self.lex = corpus, lexicon
        # every row's normalised text, built once per corpus by the caller and kept across questions
        self._text_index = text_index or (lambda: TextIndex(corpus.records))
        self.tokenize = tokenize or (lambda text: re.findall(r"[\u4e00-\u9fff]{2,}|[A-Za-z]+|\d+(?:\.\d+)?", text))
        self.search, self.dense = search, dense
        self.last_search: dict[str, Any] = {}

    @property
    def can_search(self) -> bool:
        return self.search is not None

    def numbers(self) -> NumberIndex:
        """Every number of every row, by unit and value (kept with the text index across questions)."""
        return self._text_index().numbers()

    # ---- sets ----------------------------------------------------------------------------------------

    def _in_scope(self, rows: Sequence[Commitment], hits: set[int]) -> list[Commitment]:
        """The rows among `rows` whose positions are in `hits`, in corpus order."""
        index = self._text_index()
        scope = {index.position.get(id(r), -1) for r in rows} if len(hits) > 0 else set()
        return [index.records[i] for i in sorted(hits & scope)]

    def _fuzzy_hits(self, phrase: str, coverage: float = 0.75) -> set[int]:
        wanted = norm(phrase)
        pairs = {wanted[i:i + 2] for i in range(len(wanted) - 1)}
        if len(pairs) < 3:
            return set()
        return self._text_index().rows_with_most(sorted(pairs), math.ceil(coverage * len(pairs)))

    def exact(self, rows: Sequence[Commitment], phrase: str) -> list[Commitment]:
        return self._in_scope(rows, self._text_index().rows_with(norm(phrase)))

    def fuzzy(self, rows: Sequence[Commitment], phrase: str, coverage: float = 0.75) -> list[Commitment]:
        """Rows that hold nearly all of the phrase's character pairs: a quote with a word more or less
        (资产总量保5争4 against 资产总量实现“保5争4”)."""
        return self._in_scope(rows, self._fuzzy_hits(phrase, coverage))

    def phrase_rows(self, rows: Sequence[Commitment], phrase: str) -> list[tuple[Commitment, str]]:
        """Exact matches; if there are none, near-exact ones."""
        exact = self.exact(rows, phrase)
        if exact:
            return [(r, "exact") for r in exact]
        return [(r, "fuzzy") for r in self.fuzzy(rows, phrase)]

    def match(self, rows: Sequence[Commitment], phrase: str, exact_only: bool,
              filters: dict[str, Any]) -> list[tuple[Commitment, str]]:
        """Every row in scope that holds the phrase (exact), all of its words (tokens), or, for a concept,
        says it in other words (dense, above the threshold)."""
        found: dict[tuple[str, int], tuple[Commitment, str]] = {}
        for r, how in self.phrase_rows(rows, phrase):
            found[(r.source, r.line)] = (r, how)
        if not exact_only:
            tokens = [t for t in self.tokenize(phrase) if len(t) >= 2 and not GENERIC.fullmatch(t)]
            if len(tokens) >= 2:
                index = self._text_index()
                words = {norm(t) for t in tokens}
                holding = index.rows_with_most(sorted(words), len(words))
                for r in self._in_scope(rows, holding):
                    found.setdefault((r.source, r.line), (r, "tokens"))
            groups = self.lex.english_terms(phrase) if phrase.isascii() else []
            if groups:  # an English concept: rows that say each of its words in one of the lexicon's Chinese terms
                index = self._text_index()
                holding = set.intersection(*(set().union(*(index.rows_with(norm(t)) for t in group))
                                             for group in groups))
                for r in self._in_scope(rows, holding):
                    found.setdefault((r.source, r.line), (r, "lexicon"))
            if self.dense is not None:
                allowed = {(r.source, r.line) for r in rows}
                query = self.lex.expand_english(phrase) if groups else phrase
                for hit in self.dense(query, 20, filters):
                    key = (str(hit.metadata.get("source")), int(hit.metadata.get("line") or 0))
                    if key in allowed and key not in found and float(hit.score) >= DENSE_THRESHOLD:
                        record = self.corpus.record_at(*key)
                        if record is not None:
                            found[key] = (record, "dense")
        return sorted(found.values(), key=lambda pair: self.position(pair[0]))

    def position(self, record: Commitment) -> int:
        """The record's place in the corpus (set answers list rows in the data's order)."""
        return self._text_index().position.get(id(record), 0)

    def specific_word(self, phrase: str, most: float = 0.25) -> str | None:
        """The concept's most specific word (企业上市 -> 上市): of its words that are not generic, the one the
        fewest rows hold, if any row and at most `most` of all rows hold it; None otherwise."""
        index = self._text_index()
        cut = getattr(self.tokenize, "words", None)  # whole words, not the index's bigrams (化改)
        if cut is None:
            return None
        words = [t for t in cut(phrase) if len(t) >= 2 and not GENERIC.fullmatch(t) and t != phrase]
        counted = [(len(index.rows_with(norm(w))), w) for w in dict.fromkeys(words)]
        usable = [(n, w) for n, w in counted if 0 < n <= most * len(index.records)]
        return min(usable)[1] if usable else None

    def phrase_clause(self, record: Commitment, phrase: str) -> str:
        """The sentence (narrowed to clauses if long) of the text that holds the phrase."""
        text = record.text
        at = text.find(phrase)
        if at < 0:
            tokens = [t for t in self.tokenize(phrase) if len(t) >= 2]
            if phrase.isascii():  # an English concept: where its Chinese terms are
                tokens += [t for group in self.lex.english_terms(phrase) for t in group]
            at = next((text.find(t) for t in tokens if t in text), -1)
        if at < 0:
            return first_quote(record)
        for s, e in sentences(text):
            if s <= at < e:
                return self._narrow(text, s, e, at)
        return first_quote(record)

    def _narrow(self, text: str, s: int, e: int, at: int) -> str:
        if e - s <= MAX_QUOTE:
            return text[s:e].strip()
        spans = clauses(text, s, e)
        center = next(i for i, (a, b) in enumerate(spans) if a <= at <= b or at < a)
        lo = hi = center
        while True:
            grown = False
            for cand in (hi + 1, lo - 1):
                if 0 <= cand < len(spans) and spans[max(hi, cand)][1] - spans[min(lo, cand)][0] <= MAX_QUOTE:
                    lo, hi, grown = min(lo, cand), max(hi, cand), True
            if not grown:
                break
        return text[spans[lo][0]:spans[hi][1]].strip()

    # ---- quantities ----------------------------------------------------------------------------------

    def quote_for(self, record: Commitment, question: str, measure: Measure | None) -> str:
        """The clause of the row whose words best match the question and that holds the asked number."""
        return self._best_clause(record, question, measure)[1]

    def _best_clause(self, record: Commitment, question: str, measure: Measure | None) -> tuple[float, str]:
        text = record.text
        tokens = [t for t in self.tokenize(question) if len(t) >= 2 and not GENERIC.fullmatch(t)]
        chars = content_chars(question)
        unit = measure.unit if measure else ""
        wants_number = measure is not None and measure.name == "quantity"
        best: tuple[float, int, int] = (-1.0, 0, len(text))
        spans = clauses(text)
        for i, (a, b) in enumerate(spans):
            piece = text[a:b]
            score = sum(len(t) for t in tokens if t in piece) + 0.3 * len(chars & content_chars(piece))
            has_number = re.search(r"\d", piece) is not None
            if wants_number and has_number:
                score += 1.0
                if unit and re.search(rf"\d(?:\.\d+)?\s*(?:万|亿)?{re.escape(unit)}", piece):
                    score += 2.0
            elif wants_number and i + 1 < len(spans):
                nxt = text[spans[i + 1][0]:spans[i + 1][1]]
                if re.search(r"\d", nxt):
                    score += 0.5
            if score > best[0]:
                best = (score, i, i)
        score, lo, hi = best
        if not spans:
            return score, text[:MAX_QUOTE]
        if wants_number and not re.search(r"\d", text[spans[lo][0]:spans[hi][1]]) and hi + 1 < len(spans):
            hi += 1
        if spans[hi][1] - spans[lo][0] < 12 and lo > 0:
            lo -= 1
        a, b = spans[lo][0], spans[hi][1]
        for s, e in sentences(text):  # the whole sentence that holds the clause, when it is short enough to read
            if s <= a and b <= e and e - s <= MAX_QUOTE:
                return score, text[s:e].strip()
        return score, text[a:b].strip()

    # ---- content lookups -----------------------------------------------------------------------------

    def _query_text(self, q: Query) -> str:
        return self.lex.expand_english(q.text) if q.lang == "en" else q.text

    def _candidates(self, q: Query, k: int = 8) -> list[Commitment]:
        assert self.search is not None
        filters = self._filters(q)
        text = self._query_text(q)
        hits = self.search(text, k, filters)
        self.last_search = {"query": text, "filters": filters, "k": k}
        rows = []
        for hit in hits:
            record = self.corpus.record_at(str(hit.metadata.get("source")), int(hit.metadata.get("line") or 0))
            if record is not None and record not in rows:
                rows.append(record)
        if q.scope.kinds:
            rows.sort(key=lambda r: r.kind not in q.scope.kinds)
        return rows

    def _filters(self, q: Query) -> dict[str, Any]:
        f: dict[str, Any] = {}
        if len(q.scope.departments) == 1:
            f["department"] = q.scope.departments[0]
        if len(q.scope.years) == 1:
            f["year"] = q.scope.years[0]
        if len(q.scope.categories) == 1:
            f["category"] = q.scope.categories[0]
        return f

    def lookup(self, q: Query) -> list[tuple[Commitment, str]]:
        rows = self._candidates(q)
        text = self._query_text(q)
        quoted = re.findall(r"[“\"'‘「](.{2,40}?)[”\"'’」]", q.text)
        scored = []
        for position, r in enumerate(rows[:6]):
            if q.lang != "en" and not supported(text, r):
                continue
            score, quote = self._best_clause(r, text, q.measure)
            if any(norm(p) in norm(r.title + r.text) for p in quoted):
                score += 3
            scored.append((score - 0.6 * position, position, r, quote))
        if not scored:
            return []
        scored.sort(key=lambda item: (-item[0], item[1]))
        best = scored[0]
        chosen = [(best[2], best[3])]
        for score, _, r, quote in scored[1:3]:
            if score >= best[0] - 0.5 and r.department != best[2].department:
                chosen.append((r, quote))
        return chosen

    def nearest(self, q: Query) -> list[tuple[Commitment, str]]:
        rows = self._candidates(q, 3) if self.search else []
        return [(r, first_quote(r)) for r in rows[:2]]
