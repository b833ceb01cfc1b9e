"""Open WebUI's task prompts (tests/fixtures/openwebui), filled in as Open WebUI fills them."""

from __future__ import annotations

import re
from pathlib import Path

PROMPTS = Path(__file__).resolve().parent / "fixtures" / "openwebui"


def task_prompt(name: str, messages: list[dict[str, str]]) -> str:
    """The prompt with {{MESSAGES:END:n}} replaced by the last n messages, one `ROLE: content` each."""
    template = (PROMPTS / f"{name}.txt").read_text(encoding="utf-8")

    def fill(m: re.Match[str]) -> str:
        return "\n".join(f"{x['role'].upper()}: {x['content']}" for x in messages[-int(m.group(1)):])

    return re.sub(r"\{\{MESSAGES:END:(\d+)\}\}", fill, template)
