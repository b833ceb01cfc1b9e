"""Every answer is appended to an audit log (JSON Lines), so that it can be reproduced."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.contract import Answer


class AuditLog:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def record(self, answer: Answer, route: str, extra: dict[str, Any] | None = None) -> None:
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "route": route,
            "question": answer.question,
            "mode": answer.mode,
            "intent": answer.intent,
            "cited_rows": [{"source": c.source, "line": c.line, "field": c.field} for c in answer.citations],
            "warnings": answer.warnings,
            "data_version": answer.data_version,
            **(extra or {}),
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)
