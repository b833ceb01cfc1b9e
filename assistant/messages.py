"""Ingest error and warning texts, all in one data file (prompts/ingest_errors.toml), in one style.

A message says what is wrong with the cell or file and, where there is one, the fix ("write 129.86").
Where the problem stands (file, line, sheet, cell, column) is added by `Problem`, never by the text.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from typing import Any

from assistant.settings import PROMPTS_DIR

MESSAGES_FILE = PROMPTS_DIR / "ingest_errors.toml"  # in the wheel: assistant/prompts


@lru_cache(maxsize=1)
def messages() -> dict[str, str]:
    with MESSAGES_FILE.open("rb") as f:
        return {key: str(text) for key, text in tomllib.load(f).items()}


def say(key: str, **values: Any) -> str:
    """The message `key`, filled in with `values` (str.format fields)."""
    return messages()[key].format(**values)
