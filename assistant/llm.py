"""The optional LLM: an OpenAI-compatible chat model through LangChain rewrites the template answer from
the facts and rows. It refers to a fact by its id ({F1}) and the code puts the number in; the number guard then
decides whether the rewrite may be shown."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from assistant.contract import Answer
from assistant.corpus import Corpus
from assistant.guard import check
from assistant.render import render
from assistant.schema import label
from assistant.settings import Settings


def chat_model(settings: Settings) -> Any | None:
    """LangChain's ChatOpenAI when a base URL and a model are set; None means templates only."""
    if not (settings.llm_base_url and settings.llm_model):
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(base_url=settings.llm_base_url, model=settings.llm_model,
                      api_key=settings.llm_api_key or "not-needed",  # type: ignore[arg-type]
                      temperature=0, timeout=settings.llm_timeout, max_retries=1,
                      max_completion_tokens=settings.llm_max_tokens,
                      # servers that predate max_completion_tokens (llama.cpp's, vLLM's older ones) read max_tokens
                      extra_body={"max_tokens": settings.llm_max_tokens})


def cited_rows(corpus: Corpus, draft: Answer) -> dict[int, str]:
    rows = {}
    for c in draft.citations:
        record = corpus.record_at(c.source, c.line)
        if record is not None:
            rows[c.id] = f"{record.department} {record.item}.{record.title} {record.text}" + (
                f" {label('score')}{record.score} {label('rank')}{record.rank}" if record.score is not None
                and c.line == record.anchor_line else "") + (
                f" {label('coefficient')}{record.coefficient}" if record.coefficient is not None else "")
    return rows


def messages(corpus: Corpus, draft: Answer, lang: str) -> list[Any]:
    from langchain_core.messages import HumanMessage, SystemMessage

    rows = cited_rows(corpus, draft)
    return [SystemMessage(render("llm_system.j2", lang=lang)),
            HumanMessage(render("llm_user.j2", question=draft.question, facts=draft.facts,
                                citations=draft.citations, rows=rows, draft=draft.answer))]


FACT_ID = re.compile(r"\{F(\d+)\}")


def fill_facts(text: str, draft: Answer) -> tuple[str, list[str]]:
    """The LLM's text with each fact id ({F1}, {F2}, …) replaced by that fact's value as the handler computed it,
    and the ids that name no fact."""
    unknown: list[str] = []

    def value(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= len(draft.facts):
            return draft.facts[n - 1].text
        unknown.append(match.group(0))
        return match.group(0)

    return FACT_ID.sub(value, text), unknown


def rewrite(corpus: Corpus, draft: Answer, model: Any, lang: str = "zh") -> Answer:
    """The LLM's answer if it passes the guard; else the template answer, with the reason in warnings."""
    if draft.mode == "refusal" or not draft.citations:
        return draft
    try:
        reply = model.invoke(messages(corpus, draft, lang))
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
    except Exception as exc:  # the LLM is optional: any failure falls back to the template answer
        return dataclasses.replace(draft, warnings=[*draft.warnings, f"llm unavailable: {type(exc).__name__}"])
    text, unknown = fill_facts(text, draft)
    problems = [f"unknown fact ids: {', '.join(unknown)}"] if unknown else check(text, draft, cited_rows(corpus, draft))
    if problems:
        return dataclasses.replace(draft, warnings=[*draft.warnings,
                                                    *(f"llm answer rejected: {p}" for p in problems)])
    return dataclasses.replace(draft, answer=text.strip(), mode="llm")
