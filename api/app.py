"""The FastAPI app factory. The lifespan builds the service (corpus, index, models, optional LLM) once;
`Depends` hands it out. Nothing heavy happens at import."""

from __future__ import annotations

import logging
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

from api.audit import AuditLog
from assistant import __version__
from assistant.service import NotFound, Service
from assistant.settings import Settings, get_settings

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("review_assistant.api")


class BodyLimit:
    """413 for a request body over the limit, whether or not it declares its length."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._reject(send)
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
            if len(body) > self.limit:
                await self._reject(send)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        response = JSONResponse({"detail": f"request body is larger than {self.limit} bytes", "field": "body"},
                                status_code=413)
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def create_app(settings: Settings | None = None, make_service: Callable[[Settings], Service] | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not hasattr(app.state, "service"):
            app.state.service = (make_service or (lambda s: Service(s)))(settings)
        app.state.audit = AuditLog(settings.audit_path)
        yield

    app = FastAPI(title="Review assistant", version=__version__, lifespan=lifespan,
                  description="Citation-first answers over government performance review tables. "
                              "Every claim cites its source row; every number comes from deterministic code.")
    app.dependency_overrides[get_settings] = lambda: settings

    from api.openai_routes import router as openai_router
    from api.routes import health_router, router

    app.include_router(health_router)
    app.include_router(router)
    app.include_router(openai_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/departments/{name}", include_in_schema=False)
    def department_page(name: str) -> FileResponse:
        return FileResponse(STATIC / "department.html")

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "suggestions": exc.suggestions}, status_code=404)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body that is not JSON: a bad request body, named like any other field
            return JSONResponse({"detail": "body: not valid JSON", "field": "body"}, status_code=422)
        detail = str(exc.detail)
        field = detail.split(":", 1)[0] if ":" in detail and exc.status_code == 422 else None
        return JSONResponse({"detail": detail, "field": field}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        return JSONResponse({"detail": f"{field or 'body'}: {first['msg']}", "field": field or "body"},
                            status_code=422)

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s", incident)  # the trace stays in the server log
        return JSONResponse({"detail": f"internal error (incident {incident})"}, status_code=500)

    if settings.cors_origin_list:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


def app_from_env() -> Any:
    """For `uvicorn --factory api.app:app_from_env`."""
    return create_app()
