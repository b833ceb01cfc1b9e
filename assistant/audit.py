"""The audit log: every answer from every front end (CLI, chat page, JSON API, OpenAI-compatible API), one JSON
object per line, with the whole conversation it answered, the data version and the citations, so that any
answer can be reproduced (`review-assistant ask` on that version with that history).

The path is checked when the service starts (`check`): an unwritable one stops the start, naming the path.
A write that fails later raises AuditWriteFailed (the API answers 503) and is reported by /health until a
write succeeds again. The log rotates by size: audit.jsonl -> audit.jsonl.1 -> … -> .N (N kept), under a file
lock, so several processes writing one log never lose or interleave lines.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.contract import Answer
from assistant.errors import ReviewError


class AuditUnwritable(ReviewError):
    """The audit log cannot be written: the service does not start."""

    status = 503


class AuditWriteFailed(ReviewError):
    """An answer could not be recorded: it is not given (an unrecorded answer could not be reproduced)."""

    status = 503


class AuditLog:
    def __init__(self, path: Path, max_bytes: int = 10 * 1024 * 1024, backups: int = 5):
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self.failure: str | None = None  # the last write's error, until a write succeeds
        self._lock = threading.Lock()

    def check(self) -> None:
        """Create the folder and open the log for appending, or AuditUnwritable naming the path."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8"):
                pass
            if not os.access(self.path, os.W_OK):
                raise PermissionError("not writable")
        except OSError as exc:
            raise AuditUnwritable(f"the audit log {self.path} cannot be written "
                                  f"({exc.strerror or exc}); set REVIEW_ASSISTANT_AUDIT_LOG to a writable path, "
                                  "or use --no-audit (CLI)") from None

    def record(self, answer: Answer, front_end: str, history: list[str] | None = None,
               extra: dict[str, Any] | None = None) -> None:
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "front_end": front_end,
            "question": answer.question,
            "history": list(history or []),  # the earlier user messages the answer took as context
            "data_version": answer.data_version,
            "mode": answer.mode,
            "intent": answer.intent,
            "answer": answer.answer,
            "citations": [c.to_json() if hasattr(c, "to_json") else dict(c.__dict__) for c in answer.citations],
            "warnings": answer.warnings,
            **(extra or {}),
        }
        line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        try:
            with self._lock:
                self._append(line)
        except OSError as exc:
            self.failure = f"the audit log {self.path} cannot be written ({exc.strerror or exc})"
            raise AuditWriteFailed(self.failure + "; the answer was not given because it could not be "
                                   "recorded") from None
        self.failure = None

    def _append(self, line: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                if self.max_bytes and f.tell() + len(line) > self.max_bytes and f.tell() > 0:
                    self._rotate()
                    with self.path.open("ab") as fresh:
                        fresh.write(line)
                    return
                f.write(line)
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _rotate(self) -> None:
        """audit.jsonl.N-1 -> .N, …, audit.jsonl -> .1; the oldest beyond N is dropped."""
        if self.backups < 1:
            self.path.unlink(missing_ok=True)
            return
        oldest = self.path.with_name(f"{self.path.name}.{self.backups}")
        oldest.unlink(missing_ok=True)
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))

    def last(self, n: int = 10) -> list[dict[str, Any]]:
        """The last n records (from the rotated files too when the current one holds fewer)."""
        kept: deque[dict[str, Any]] = deque(maxlen=n)
        files = [self.path.with_name(f"{self.path.name}.{k}") for k in range(self.backups, 0, -1)] + [self.path]
        for path in files:
            if not path.exists():
                continue
            with path.open(encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        try:
                            kept.append(json.loads(line))
                        except json.JSONDecodeError:
                            continue
        return list(kept)
