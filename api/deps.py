"""Dependencies: the app's settings and the service built by the lifespan (which records every answer in the audit
log), both read from `app.state`, and the API-key check.

Not `app.dependency_overrides`: while it holds anything, FastAPI rebuilds every sub-dependency (an
`inspect.signature` each) on every request. And coroutines: a plain function is sent to the thread pool, one hop
per dependency per request."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.service import Service
from assistant.settings import Settings

bearer = HTTPBearer(auto_error=False, description="Needed when REVIEW_ASSISTANT_API_KEYS is set")


async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def require_key(
    settings: Annotated[Settings, Depends(app_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    keys = settings.api_key_list
    if not keys:
        return
    given = credentials.credentials if credentials else ""
    # a header with bytes outside ASCII (read as latin-1) is a wrong key, not a crash of compare_digest
    if not given.isascii() or not any(secrets.compare_digest(given, key) for key in keys if key.isascii()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong API key (Authorization: Bearer <key>)",
                            headers={"WWW-Authenticate": "Bearer"})


ServiceDep = Annotated[Service, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
