"""The optional LLM as a parser: for a question the rules leave unparsed, it returns a query as JSON
(the schema and the lexicon in its prompt). The query is validated; anything invalid falls back to the
rules' query. The LLM never computes a number: the handlers do."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from assistant.corpus import Corpus
from assistant.lexicon import Lexicon
from assistant.query import MEASURES, OPERATIONS, FieldIs, Measure, Query, Scope
from assistant.render import render
from assistant.slots import is_english

QUERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "operation": {"type": "string", "enum": [o for o in OPERATIONS if o != "refuse"]},
        "departments": {"type": "array", "items": {"type": "string"}},
        "years": {"type": "array", "items": {"type": "integer"}},
        "categories": {"type": "array", "items": {"type": "string"}},
        "measure": {"type": "string", "enum": list(MEASURES)},
        "field": {"type": "string", "enum": ["score", "rank", "coefficient"]},
        "op": {"type": "string", "enum": ["=", ">", ">=", "<", "<=", "between"]},
        "value": {"type": "number"},
        "upper": {"type": "number"},
        "n": {"type": "integer"},
        "ascending": {"type": "boolean"},
    },
    "required": ["operation"],
}


def to_query(data: Any, text: str, corpus: Corpus) -> Query | None:
    """A validated query from the LLM's JSON, or None when anything in it is unknown."""
    if not isinstance(data, dict) or data.get("operation") not in OPERATIONS or data["operation"] == "refuse":
        return None
    names = []
    for name in data.get("departments") or []:
        found = corpus.directory.resolve(str(name))
        if found is None:
            return None
        names.append(found)
    years = {r.year for r in corpus.records}
    categories = {r.category for r in corpus.records if r.category}
    if any(y not in years for y in data.get("years") or []) or any(c not in categories for c in
                                                                    data.get("categories") or []):
        return None
    measure = data.get("measure")
    if measure is not None and measure not in MEASURES:
        return None
    predicates: tuple[FieldIs, ...] = ()
    if data.get("field") and data.get("op") and data.get("value") is not None:
        try:
            upper = Decimal(str(data["upper"])) if data.get("upper") is not None else None
            predicates = (FieldIs(data["field"], data["op"], Decimal(str(data["value"])), upper),)
        except (InvalidOperation, KeyError):
            return None
    n = data.get("n")
    return Query(data["operation"], Scope(years=tuple(data.get("years") or ()), departments=tuple(names),
                                          categories=tuple(data.get("categories") or ())),
                 predicates, Measure(measure) if measure else None, n if isinstance(n, int) else None,
                 bool(data.get("ascending")), text=text, lang="en" if is_english(text) else "zh",
                 confidence=0.6, parser="llm")


# Constrained output, most specific first: OpenAI's json_schema; llama-cpp-python's json_object with a schema
# (it turns the schema into a grammar); a plain request whose reply is searched for a JSON object.
FORMATS: tuple[tuple[str, dict[str, Any] | None], ...] = (
    ("json_schema", {"type": "json_schema", "json_schema": {"name": "query", "strict": False, "schema": QUERY_SCHEMA}}),
    ("json_object", {"type": "json_object", "schema": QUERY_SCHEMA}),
    ("prompt", None),
)


def request_query(chat: Any, text: str, lexicon: Lexicon, corpus: Corpus) -> tuple[Any, str] | None:
    """The LLM's JSON for a question and the response format that produced it; None when no format worked.
    A server that refuses a format (an error) is asked with the next one."""
    from langchain_core.messages import HumanMessage, SystemMessage

    prompt = render("llm_parse.j2", schema=json.dumps(QUERY_SCHEMA, ensure_ascii=False),
                    departments=list(corpus.directory.names), categories=sorted(lexicon.category_names),
                    years=sorted({r.year for r in corpus.records}))
    messages = [SystemMessage(prompt), HumanMessage(text)]
    for name, response_format in FORMATS:
        try:
            model = chat.bind(response_format=response_format) if response_format is not None else chat
            reply = model.invoke(messages)
        except Exception:  # the LLM is optional: a refused format tries the next, any other failure ends it
            continue
        content = reply.content if isinstance(reply.content, str) else str(reply.content)
        match = re.search(r"\{.*\}", content, re.S)
        try:
            return (json.loads(match.group(0)) if match else None), name
        except json.JSONDecodeError:
            return None, name
    return None


def parse_with_llm(chat: Any, text: str, lexicon: Lexicon, corpus: Corpus) -> list[Query] | None:
    """A query from the LLM for a question the rules could not parse with confidence; None keeps the rules'."""
    got = request_query(chat, text, lexicon, corpus)
    if got is None:
        return None
    query = to_query(got[0], text, corpus)
    return [query] if query is not None else None
