"""The answer in the OpenAI Chat Completions shapes: content with a numbered sources list at the end (so any
front end shows the citations), a structured `citations` field, and server-sent event chunks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from assistant.contract import Answer


def content(answer: Answer) -> str:
    if not answer.citations:
        return answer.answer
    sources = "\n".join(f"[{c.id}] {c.source}:{c.line} {c.department} · {c.field}:“{c.quote}”"
                        for c in answer.citations)
    return f"{answer.answer}\n\n来源 Sources:\n{sources}"


def conversation(messages: list[Any]) -> tuple[str, list[str]]:
    """The last user message is the question; earlier user messages are its context."""
    users = [m.text() for m in messages if m.role == "user"]
    if not users:
        return "", []
    return users[-1], users[:-1]


def completion(answer: Answer, model: str) -> dict[str, Any]:
    text = content(answer)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": len(answer.question), "completion_tokens": len(text),
                  "total_tokens": len(answer.question) + len(text)},
        "citations": [c.to_json() for c in answer.citations],
        "answer": answer.to_json(),
    }


def pieces(text: str, size: int = 24) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def stream(answer: Answer, model: str) -> Iterator[str]:
    """Server-sent events in the OpenAI chunk format, ending with `data: [DONE]`."""
    ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces(content(answer)):
        yield chunk({"content": piece})
    yield chunk({}, "stop", citations=[c.to_json() for c in answer.citations], answer=answer.to_json())
    yield "data: [DONE]\n\n"
