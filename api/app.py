"""The FastAPI app factory. The lifespan builds the service (corpus, index, models, optional LLM) once;
`Depends` hands it out. Nothing heavy happens at import."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import ServiceDep
from api.openai_errors import OpenAIError, error_body, is_openai_path
from assistant import __version__
from assistant.errors import ReviewError
from assistant.service import Service
from assistant.settings import Settings, get_settings

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("review_assistant.api")


UPLOADS = "/api/sources"  # the one route whose body is a file: its own limit


class BodyLimit:
    """413 for a request body over the limit, whether or not it declares its length."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int | None = None):
        self.app, self.limit, self.upload_limit = app, limit, upload_limit or limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.upload_limit if path == UPLOADS else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, path, limit)
            return
        body, more = b"", True
        messages: list[Message] = []
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await self._reject(send, path, limit)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send, path: str, limit: int) -> None:
        message = f"request body is larger than {limit} bytes"
        response = problem(path, 413, message, "body", code="request_too_large")
        await response({"type": "http"}, _no_receive, send)


class ServedBy:
    """Every response names the process that served it (X-Served-By: pid): `serve --workers N` runs N."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.header = (b"x-served-by", str(os.getpid()).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, named)


def problem(path: str, status: int, message: str, field: str | None = None, code: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """An error body: OpenAI's shape on /v1/*, this API's own shape ({"detail", "field", ...}) elsewhere."""
    if is_openai_path(path):
        return JSONResponse(error_body(status, message, field, code), status_code=status, headers=headers)
    return JSONResponse({"detail": message, "field": field, **extra}, status_code=status, headers=headers)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def review_error_response(exc: ReviewError) -> JSONResponse:
    """The API's one mapping of the domain's errors (the CLI's is cli._fail): the error's own status, and
    {"detail", "field", "suggestions"}; an ingest error's detail lists every problem with file and line."""
    body = {"detail": exc.message, "field": getattr(exc, "field", None),
            "suggestions": list(getattr(exc, "suggestions", None) or [])}
    return JSONResponse(body, status_code=exc.status)


def create_app(settings: Settings | None = None, make_service: Callable[[Settings], Service] | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not hasattr(app.state, "service"):
            try:
                app.state.service = (make_service or (lambda s: Service.from_settings(s, "eager")))(settings)
            except ReviewError as exc:  # bad data with no good version, or an unwritable audit log: refuse
                log.error("cannot start: %s", exc.message)
                raise
        yield

    app = FastAPI(title="Review assistant", version=__version__, lifespan=lifespan,
                  description="Citation-first answers over government performance review tables. "
                              "Every claim cites its source row; every number comes from deterministic code.")
    app.state.settings = settings

    from api.openai_routes import router as openai_router
    from api.routes import health_router, router
    from api.sources_routes import router as sources_router

    app.include_router(health_router)
    app.include_router(router)
    app.include_router(sources_router)
    app.include_router(openai_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/departments/{name}", include_in_schema=False)
    def department_page(name: str, service: ServiceDep) -> FileResponse:
        """The page; a name the data does not hold gets it with 404 (the page shows the nearest names)."""
        known = service.corpus.directory.resolve(name) is not None
        return FileResponse(STATIC / "department.html", status_code=200 if known else 404)

    @app.exception_handler(ReviewError)
    async def review_error(request: Request, exc: ReviewError) -> JSONResponse:
        if is_openai_path(request.url.path):
            return problem(request.url.path, exc.status, exc.message,
                           code="not_found" if exc.status == 404 else None)
        return review_error_response(exc)

    @app.exception_handler(OpenAIError)
    async def openai_error(_: Request, exc: OpenAIError) -> JSONResponse:
        return JSONResponse(error_body(exc.status, exc.message, exc.param, exc.code), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path, openai = request.url.path, is_openai_path(request.url.path)
        if exc.status_code == 400:  # a body that is not JSON: a bad request body, named like any other field
            return problem(path, 400 if openai else 422, "body: not valid JSON", "body", code="invalid_json")
        detail = str(exc.detail)
        field = detail.split(":", 1)[0] if ":" in detail and exc.status_code == 422 else None
        code = {401: "invalid_api_key", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return problem(path, exc.status_code, detail, field, code=code if openai else None,
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        message = f"{field or 'body'}: {first['msg']}"
        if first.get("type") == "json_invalid":
            field, message = "body", "body: not valid JSON"
        # OpenAI answers a bad parameter with 400; this API keeps 422
        status = 400 if is_openai_path(request.url.path) else 422
        return problem(request.url.path, status, message, field or "body", code="invalid_value")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s", incident)  # the trace stays in the server log
        if is_openai_path(request.url.path):
            return problem(request.url.path, 500, f"internal error (incident {incident})", code="internal_error")
        return JSONResponse({"detail": f"internal error (incident {incident})"}, status_code=500)

    if settings.cors_origin_list:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes)
    app.add_middleware(ServedBy)
    return app


def app_from_env() -> Any:
    """For `uvicorn --factory api.app:app_from_env`."""
    return create_app()
