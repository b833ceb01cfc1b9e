"""The JSON API. Routes translate HTTP into service calls; they never query or compute."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import AuditDep, ServiceDep, require_key
from api.schemas import (
    AnswerModel,
    AskRequest,
    DepartmentModel,
    ErrorModel,
    RowModel,
    SourceLineModel,
    SummaryModel,
)
from assistant.service import Health

health_router = APIRouter()
router = APIRouter(prefix="/api", dependencies=[Depends(require_key)],
                   responses={401: {"model": ErrorModel}, 413: {"model": ErrorModel}, 422: {"model": ErrorModel}})


@health_router.get("/health", response_model=Health, tags=["service"])
def health(service: ServiceDep) -> Health:
    """Whether the index is loaded, with the data's and the index's versions."""
    return service.health()


@router.post("/ask", response_model=AnswerModel, tags=["answers"])
def ask(request: AskRequest, service: ServiceDep, audit: AuditDep) -> dict:
    """Answer a question; every claim cites its source row."""
    filters = request.filters.model_dump(exclude_none=True) if request.filters else None
    answer = service.ask(request.question, filters=filters)
    audit.record(answer, "/api/ask", {"filters": filters})
    return answer.to_json()


@router.get("/departments", response_model=list[DepartmentModel], tags=["departments"])
def departments(service: ServiceDep) -> list[dict]:
    """Every department and year, with score, rank and coefficient."""
    return service.departments()


@router.get("/departments/{name}", response_model=SummaryModel, responses={404: {"model": ErrorModel}},
            tags=["departments"])
def department(name: Annotated[str, Path(max_length=100, examples=["卫健委"])], service: ServiceDep) -> dict:
    """The cited summary of one department (aliases work), with its category's scores for a chart."""
    return service.department(name)


@router.get("/search", response_model=list[RowModel], responses={404: {"model": ErrorModel}}, tags=["search"])
def search(
    service: ServiceDep,
    q: Annotated[str, Query(min_length=1, max_length=1000)],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
) -> list[dict]:
    """Source rows by hybrid search (dense + BM25)."""
    return service.search(q, k, year, department)


@router.get("/sources/{source}/lines/{line}", response_model=SourceLineModel, responses={404: {"model": ErrorModel}},
            tags=["sources"])
def source_line(source: Annotated[str, Path(max_length=300, examples=["000_7fc1be17f2f87087.txt"])],
                line: Annotated[int, Path(ge=1, le=10_000_000, examples=[21])],
                service: ServiceDep) -> dict:
    """The cited row as it stands in the file."""
    return service.source_line(source, line)
