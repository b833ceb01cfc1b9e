"""Dependencies: settings (an @lru_cache get_settings, overridden in tests), the service built by the lifespan,
the audit log, and the API-key check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.audit import AuditLog
from assistant.service import Service
from assistant.settings import Settings, get_settings

bearer = HTTPBearer(auto_error=False, description="Needed when REVIEW_ASSISTANT_API_KEYS is set")


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def get_audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


def require_key(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    keys = settings.api_key_list
    if not keys:
        return
    given = credentials.credentials if credentials else ""
    if not any(secrets.compare_digest(given, key) for key in keys):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong API key (Authorization: Bearer <key>)",
                            headers={"WWW-Authenticate": "Bearer"})


ServiceDep = Annotated[Service, Depends(get_service)]
AuditDep = Annotated[AuditLog, Depends(get_audit)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
