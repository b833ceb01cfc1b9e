"""Record -> LangChain Document: the text repeats the column names so a row stands on its own."""

from __future__ import annotations

import hashlib
from typing import Any

from langchain_core.documents import Document

from assistant.records import Commitment
from assistant.schema import label

YEAR_LABEL = "年份"  # not a column of the tables (the year comes from sources.toml), so not in the schema


def chunk_text(r: Commitment) -> str:
    """The row on its own: each value after its column label (from the schema), as the tables write it."""
    lines = [f"{YEAR_LABEL}: {r.year}"]
    if r.category:
        lines.append(f"{label('category')}: {r.category}")
    lines += [f"{label('department')}: {r.department}", f"{label('title')}: {r.item}. {r.title}",
              f"{r.text_field}: {r.text}"]
    for name in ("score", "rank", "coefficient"):
        value = getattr(r, name)
        if value is not None:
            lines.append(f"{label(name)}: {value}")
    return "\n".join(lines)


def chunk_id(source: str, line: int, text: str) -> str:
    return hashlib.sha256(f"{source}\n{line}\n{text}".encode()).hexdigest()


def chunk_metadata(r: Commitment) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "source": r.source,
        "line": r.line,
        "year": r.year,
        "kind": r.kind,
        "category": r.category or "",
        "department": r.department,
        "item": r.item,
        "title": r.title,
    }
    if r.sheet is not None:
        meta["sheet"] = r.sheet
    if r.score is not None:
        meta["score"] = str(r.score)
    if r.rank is not None:
        meta["rank"] = r.rank
    if r.coefficient is not None:
        meta["coefficient"] = str(r.coefficient)
    return meta


def to_document(r: Commitment) -> Document:
    text = chunk_text(r)
    return Document(page_content=text, metadata=chunk_metadata(r), id=chunk_id(r.source, r.line, text))


def to_documents(records: list[Commitment] | tuple[Commitment, ...]) -> list[Document]:
    return [to_document(r) for r in records]
