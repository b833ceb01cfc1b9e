"""JSON-ready views of the facts, shared by the CLI and the HTTP API."""

from __future__ import annotations

from typing import Any

from assistant.corpus import Corpus
from assistant.facts import DepartmentRow, across_years, numbers
from assistant.records import measures_json, number_json
from assistant.status import outcome_status


def department_json(d: DepartmentRow) -> dict[str, Any]:
    return {
        "year": d.year,
        "kind": d.kind,
        "department": d.department,
        "category": d.category,
        **measures_json(d),
        "items": d.items,
        "source": d.source,
        "line": d.line,
    }


def department_facts(corpus: Corpus, name: str) -> dict[str, Any]:
    """A department's rows in every year: score, rank, coefficient, and each item's status and numbers."""
    years = []
    for d in sorted((d for d in corpus.departments if d.department == name), key=lambda d: d.year):
        items = []
        for r in corpus.records_of(name, d.year):
            status = outcome_status(r)
            items.append({
                "item": r.item,
                "title": r.title,
                "text": r.text,
                "source": r.source,
                "line": r.line,
                "status": None if status is None else status.label,
                "reason": None if status is None else status.reason,
                "evidence": None if status is None else status.evidence,
                "evidence_span": None if status is None or not status.evidence else [status.start, status.end],
                "numbers": [
                    {"raw": q.raw, "value": number_json(q.value), "unit": q.unit, "qualifier": q.qualifier,
                     "span": [q.start, q.end]}
                    for q in numbers(r) if not q.is_date
                ],
            })
        years.append({**department_json(d), "items": items})
    return {"department": name, "years": years, "linked_years": sorted(across_years(corpus.records).get(name, {}))}
