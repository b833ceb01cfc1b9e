"""Every answer text comes from a template in prompts/, rendered by this one pure function.

The templates ship inside the wheel as assistant/prompts; in a source checkout they are the top-level prompts/."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from assistant.settings import PROMPTS_DIR

PROMPTS = PROMPTS_DIR


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PROMPTS),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["num"] = lambda value: "" if value is None else str(value)
    return env


def status_label(label: str, lang: str = "zh", long: bool = False) -> str:
    """What a status is called, from prompts/status_labels.j2 (for callers outside a template)."""
    return str(_environment().get_template("status_labels.j2").module.status_label(label, lang, long))  # type: ignore[attr-defined]


def render(template: str, **context: Any) -> str:
    """Render prompts/<template>; a missing variable is an error, never an empty string."""
    return _environment().get_template(template).render(**context).strip()
