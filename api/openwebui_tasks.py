"""Open WebUI's background tasks. Open WebUI sends its own prompts to the chat model: a title, tags and
follow-up questions for the conversation, each beginning with `### Task:` and asking for JSON. They are not
questions about the data: they get the JSON they ask for, built from the departments, categories and years the
conversation names, and the follow-ups are questions the data's operations answer (a score, a coefficient, a
comparison, a ranking, an average)."""

from __future__ import annotations

import re
from typing import Any

from assistant.corpus import Corpus
from assistant.render import render
from assistant.slots import is_english

TASK = "### Task:"
HISTORY = re.compile(r"<chat_history>(.*?)</chat_history>", re.S)
SPEAKER = re.compile(r"^(USER|ASSISTANT|SYSTEM):\s?", re.M)
YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
# the JSON key each task's "### Output" asks for, in the order they are recognised
KEYS = {"follow_ups": "follow_ups", "tags": "tags", "title": "title", "queries": "queries", "text": "text"}


def task_kind(prompt: str) -> str | None:
    """Which task a prompt is ("title", "tags", "follow_ups", …), or None when it is a question."""
    if not prompt.lstrip().startswith(TASK):
        return None
    body = HISTORY.sub("", prompt)
    for key, kind in KEYS.items():
        if re.search(r'[{,]\s*"' + key + r'"\s*:', body):
            return kind
    return "unknown"


def chat_history(prompt: str) -> list[tuple[str, str]]:
    """The (role, text) messages inside <chat_history>, as Open WebUI writes them ("USER: …")."""
    found = HISTORY.search(prompt)
    if not found:
        return []
    text = found.group(1)
    marks = list(SPEAKER.finditer(text))
    messages = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end() : end].strip().strip('"').strip()
        messages.append((m.group(1).lower(), body))
    return messages


def _context(corpus: Corpus, messages: list[tuple[str, str]]) -> dict[str, Any]:
    users = [t for role, t in messages if role == "user"]
    text = "\n".join(users) or "\n".join(t for _, t in messages)
    departments: list[str] = []
    for mention in corpus.directory.find("\n".join(users + [t for r, t in messages if r != "user"])):
        if mention.department not in departments and corpus.records_of(mention.department):
            departments.append(mention.department)
    rows = corpus.departments
    categories_all = sorted({d.category for d in rows if d.category}, key=lambda c: min(
        i for i, d in enumerate(rows) if d.category == c))
    named = [c for c in categories_all if c in text]
    of_departments = [d.category for d in rows if d.department in departments[:2] and d.category]
    categories = list(dict.fromkeys(named + of_departments))
    known_years = {d.year for d in rows}
    years = sorted({int(y) for y in YEAR.findall(text)} & known_years)
    lang = "en" if users and is_english(users[-1]) else "zh"
    return {"departments": departments, "categories": categories, "years": years, "lang": lang, "text": text}


def _lines(template: str, **context: Any) -> list[str]:
    return [line.strip() for line in render(template, **context).splitlines() if line.strip()]


def follow_ups(corpus: Corpus, ctx: dict[str, Any], limit: int = 5) -> list[str]:
    rows = corpus.departments
    department = ctx["departments"][0] if ctx["departments"] else None
    mine = [d for d in rows if d.department == department]
    scored = next((d for d in mine if d.score is not None), None)
    coefficient = next((d for d in mine if d.coefficient is not None), None)
    category = scored.category if scored else (ctx["categories"][0] if ctx["categories"] else None)
    peer = None
    if scored is not None and scored.rank is not None:
        peers = sorted((d for d in rows if d.year == scored.year and d.category == scored.category
                        and d.department != department and d.rank is not None),
                       key=lambda d: abs((d.rank or 0) - (scored.rank or 0)))
        peer = peers[0].department if peers else None
    if category is None and department is None:
        category = next((d.category for d in rows if d.category), None)
    asked = ctx["text"]
    asked_score = re.search(r"得分|分数|score", asked, re.I) is not None
    asked_coefficient = re.search(r"系数|coefficient", asked, re.I) is not None
    questions = _lines("task_follow_ups.j2", lang=ctx["lang"], department=department, peer=peer, category=category,
                       score_year=scored.year if scored and not asked_score else None,
                       coefficient_year=coefficient.year if coefficient and not asked_coefficient else None)
    return [q for q in dict.fromkeys(questions) if re.sub(r"[??]$", "", q) not in asked][:limit]


def answer_task(kind: str, prompt: str, corpus: Corpus) -> dict[str, Any]:
    ctx = _context(corpus, chat_history(prompt))
    if kind == "title":
        return {"title": render("task_title.j2", **ctx).strip()}
    if kind == "tags":
        return {"tags": list(dict.fromkeys(_lines("task_tags.j2", **ctx)))}
    if kind == "follow_ups":
        return {"follow_ups": follow_ups(corpus, ctx)}
    if kind == "queries":  # web-search and retrieval queries: this service searches its own data
        return {"queries": []}
    if kind == "text":  # autocompletion: nothing to add
        return {"text": ""}
    return {}
