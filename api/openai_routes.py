"""OpenAI-compatible endpoints, for Open WebUI, LobeChat, NextChat or the official `openai` SDK."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import StreamingResponse

from api import openai_format, openwebui_tasks
from api.deps import ServiceDep, SettingsDep, require_key
from api.openai_errors import OpenAIError
from api.schemas import MAX_QUESTION, ChatRequest, ChatResponse, ModelCard, ModelList, OpenAIErrorModel

router = APIRouter(prefix="/v1", dependencies=[Depends(require_key)], tags=["openai"],
                   responses={400: {"model": OpenAIErrorModel}, 401: {"model": OpenAIErrorModel},
                              413: {"model": OpenAIErrorModel}})


def card(model: str) -> dict:
    return {"id": model, "object": "model", "created": 0, "owned_by": "review-assistant"}


@router.get("/models", response_model=ModelList)
def models(settings: SettingsDep) -> dict:
    return {"object": "list", "data": [card(settings.model_name)]}


@router.get("/models/{model}", response_model=ModelCard, responses={404: {"model": OpenAIErrorModel}})
def model(model: Annotated[str, Path(max_length=200)], settings: SettingsDep) -> dict:
    if model != settings.model_name:
        raise OpenAIError(404, f"The model '{model}' does not exist; this service serves '{settings.model_name}'",
                          "model", "model_not_found")
    return card(model)


def _checked(request: ChatRequest) -> tuple[int | None, list[str]]:
    """max_tokens and stop as given, or a clear 400 for what the service cannot do."""
    if request.n is not None and request.n != 1:
        raise OpenAIError(400, "n: only n=1 is supported: answers are computed from the data and every choice "
                               "would be the same", "n", "unsupported_value")
    limit = request.max_completion_tokens if request.max_completion_tokens is not None else request.max_tokens
    if limit is not None and limit < 1:
        raise OpenAIError(400, "max_tokens: must be at least 1", "max_tokens", "invalid_value")
    stops = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
    if len(stops) > 4:
        raise OpenAIError(400, "stop: at most 4 sequences", "stop", "invalid_value")
    return limit, stops


@router.post("/chat/completions", response_model=ChatResponse,
             responses={200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream=true"}})
def chat_completions(request: ChatRequest, service: ServiceDep, settings: SettingsDep):  # type: ignore[no-untyped-def]
    """Answers the last user message; the user messages among the last N (a setting) give context (e.g. the
    department). Open WebUI's background tasks (title, tags, follow-ups) get the JSON they ask for."""
    limit, stops = _checked(request)
    question, history = openai_format.conversation(request.messages, settings.chat_context_messages)
    if not question.strip():
        raise OpenAIError(400, "messages: the last user message is empty or missing", "messages", "invalid_value")
    model = request.model or settings.model_name
    include_usage = bool(request.stream_options and request.stream_options.include_usage)
    titles = {s.name: s.title for s in service.corpus.sources}
    task = openwebui_tasks.task_kind(question)
    if task is not None:
        text = json.dumps(openwebui_tasks.answer_task(task, question, service.corpus), ensure_ascii=False)
        result = openai_format.Reply(text, "stop")
    else:
        if len(question) > MAX_QUESTION:
            raise OpenAIError(400, f"messages[-1].content: at most {MAX_QUESTION} characters",
                              "messages[-1].content", "string_above_max_length")
        answer = service.ask(question, history=history, front_end="/v1/chat/completions",
                             extra={"stream": request.stream})
        result = openai_format.reply(answer, titles, limit, stops)
    if request.stream:
        return StreamingResponse(openai_format.stream(result, model, question, include_usage),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return openai_format.completion(result, model, question)
