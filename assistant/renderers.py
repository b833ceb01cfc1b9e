"""The output formats of a department's summary, in one registry that serves `summary --format` and
`GET /api/departments/{name}/summary?format=`. A new format is one entry here."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.errors import ReviewError

if TYPE_CHECKING:
    from assistant.summary import Summary


@dataclass(frozen=True)
class Renderer:
    name: str
    media_type: str
    render: Callable[[Summary], str]


def _json(summary: Summary) -> str:
    return json.dumps(summary.to_json(), ensure_ascii=False, indent=2)


RENDERERS: dict[str, Renderer] = {r.name: r for r in (
    Renderer("md", "text/markdown; charset=utf-8", lambda s: s.markdown()),
    Renderer("html", "text/html; charset=utf-8", lambda s: s.html()),
    Renderer("json", "application/json", _json),
)}


class UnknownFormat(ReviewError, ValueError):
    """A format the registry does not hold; names the ones it does."""

    status = 422

    def __init__(self, name: str):
        super().__init__(f"format {name!r} is not one of {', '.join(RENDERERS)}")
        self.field = "format"
        self.suggestions = list(RENDERERS)


def renderer(name: str) -> Renderer:
    found = RENDERERS.get(name.strip().lower())
    if found is None:
        raise UnknownFormat(name)
    return found
