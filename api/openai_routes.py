"""OpenAI-compatible endpoints, for Open WebUI, LobeChat, NextChat or the official `openai` SDK."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import StreamingResponse

from api import openai_format
from api.deps import AuditDep, ServiceDep, SettingsDep, require_key
from api.schemas import MAX_QUESTION, ChatRequest, ChatResponse, ErrorModel, ModelList

router = APIRouter(prefix="/v1", dependencies=[Depends(require_key)], tags=["openai"],
                   responses={401: {"model": ErrorModel}, 413: {"model": ErrorModel}, 422: {"model": ErrorModel}})


@router.get("/models", response_model=ModelList)
def models(settings: SettingsDep) -> dict:
    return {"object": "list", "data": [{"id": settings.model_name, "object": "model", "created": 0,
                                        "owned_by": "review-assistant"}]}


@router.post("/chat/completions", response_model=ChatResponse,
             responses={200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream=true"}})
def chat_completions(request: ChatRequest, service: ServiceDep, audit: AuditDep, settings: SettingsDep):  # type: ignore[no-untyped-def]
    """Answers the last user message; earlier user messages give context (e.g. the department)."""
    if len(request.messages) > settings.max_messages:
        raise HTTPException(422, f"messages: at most {settings.max_messages} messages")
    question, history = openai_format.conversation(request.messages)
    if not question.strip():
        raise HTTPException(422, "messages: the last user message is empty or missing")
    if len(question) > MAX_QUESTION:
        raise HTTPException(422, f"messages[-1].content: at most {MAX_QUESTION} characters")
    started = time.perf_counter()
    answer = service.ask(question, history=history[-10:])
    audit.record(answer, "/v1/chat/completions", {"stream": request.stream, "history": len(history),
                                                  "seconds": round(time.perf_counter() - started, 3)})
    model = request.model or settings.model_name
    if request.stream:
        return StreamingResponse(openai_format.stream(answer, model), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return openai_format.completion(answer, model)
