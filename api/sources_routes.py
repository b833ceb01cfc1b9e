"""Publishing over HTTP: `GET /api/sources` (the sources served and every published version) and
`POST /api/sources` (multipart: a file, and optional year, kind and title), which validates the file with the
current version's sources and publishes a new version only when every row is a record. `?dry_run=true` gives
the same report without publishing (the chat page's upload panel shows it before the user publishes)."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from api.deps import ServiceDep, SettingsDep, require_key
from api.schemas import ErrorModel, PublishModel, PublishRejectedModel, SourcesModel
from assistant.versions import Upload

router = APIRouter(prefix="/api", dependencies=[Depends(require_key)], tags=["sources"],
                   responses={401: {"model": ErrorModel}, 413: {"model": ErrorModel}})


@router.get("/sources", response_model=SourcesModel)
def sources(service: ServiceDep) -> dict[str, Any]:
    """The sources of the version being served, and every published version (the current one marked)."""
    return service.sources()


def _publisher(request: Request, keys: list[str]) -> str:
    """Who published, for the version's manifest: the client's address and which key (never the key)."""
    host = request.client.host if request.client else "unknown"
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    number = next((n for n, key in enumerate(keys, 1) if given == key), None)
    return f"http {host}" + (f" (API key #{number})" if number else "")


@router.post("/sources", status_code=201, response_model=PublishModel,
             responses={200: {"model": PublishModel, "description": "dry_run: the report, nothing published"},
                        422: {"model": PublishRejectedModel,
                              "description": "every rejection, or a wrong form field; nothing changed"}})
def publish(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="A source table: .txt/.tsv (tab-separated), .csv or .xlsx")],
    year: Annotated[int | None, Form(ge=1900, le=2999)] = None,
    kind: Annotated[Literal["outcomes", "targets"] | None, Form()] = None,
    title: Annotated[str | None, Form(max_length=300)] = None,
    dry_run: Annotated[bool, Query(description="Validate and report only")] = False,
) -> JSONResponse:
    """Validate the file with the sources being served (a file of the same name is replaced) and publish them
    as a new version: 201 with rows read, records and departments per file and the new version; 422 with
    every rejection (file, line or sheet:row, column, reason) and nothing changed."""
    name = (file.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name.startswith("."):
        return JSONResponse({"detail": "file: the upload needs a file name such as 2024_outcomes.xlsx",
                             "field": "file"}, status_code=422)
    with tempfile.TemporaryDirectory(prefix="upload-") as folder:
        path = FilePath(folder) / name
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                out.write(chunk)
        report = service.publish([Upload(path, name, year, kind, title or None)],
                                 _publisher(request, settings.api_key_list), dry_run)
    body = report.to_json()
    if report.problems:
        count = len(report.problems)
        body["detail"] = f"{count} problem{'s' if count > 1 else ''}: nothing was published"
        body["field"] = "file"
        return JSONResponse(body, status_code=422)
    return JSONResponse(body, status_code=200 if dry_run else 201)
