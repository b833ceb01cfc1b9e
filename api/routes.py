"""The JSON API. Routes translate HTTP into service calls; they never query or compute."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse

from api.deps import ServiceDep, require_key
from api.schemas import (
    AnswerModel,
    AskRequest,
    DepartmentModel,
    ErrorModel,
    RowModel,
    SourceLineModel,
    SummaryModel,
    TableModel,
)
from assistant.errors import NotFound
from assistant.renderers import RENDERERS, renderer
from assistant.service import Health, Service

health_router = APIRouter()
router = APIRouter(prefix="/api", dependencies=[Depends(require_key)],
                   responses={401: {"model": ErrorModel}, 413: {"model": ErrorModel}, 422: {"model": ErrorModel}})


def titled(service: Service, body: dict) -> dict:
    return service.titled(body)


@health_router.get("/health", response_model=Health, tags=["service"])
def health(service: ServiceDep) -> Health:
    """Whether the index is loaded, with the data's and the index's versions."""
    return service.health()


@router.post("/ask", response_model=AnswerModel, tags=["answers"])
def ask(request: AskRequest, service: ServiceDep) -> JSONResponse:
    """Answer a question; every claim cites its source row (and the answer is recorded in the audit log:
    503 when it cannot be)."""
    filters = request.filters.model_dump(exclude_none=True) if request.filters else None
    answer = service.ask(request.question, filters=filters, front_end="/api/ask")
    return JSONResponse(titled(service, answer.to_json()))


@router.get("/departments", response_model=list[DepartmentModel], tags=["departments"])
def departments(service: ServiceDep) -> list[dict]:
    """Every department and year, with score, rank and coefficient."""
    return service.departments()


@router.get("/departments/{name}", response_model=SummaryModel, responses={404: {"model": ErrorModel}},
            tags=["departments"])
def department(name: Annotated[str, Path(max_length=100, examples=["卫健委"])], service: ServiceDep) -> dict:
    """The cited summary of one department (aliases work), with its category's scores for a chart."""
    return titled(service, service.department(name))


@router.get("/departments/{name}/summary", response_class=Response, tags=["departments"],
            responses={200: {"content": {r.media_type.split(";")[0]: {} for r in RENDERERS.values()},
                             "description": "The summary in the format asked for"},
                       404: {"model": ErrorModel}})
def department_summary(name: Annotated[str, Path(max_length=100, examples=["卫健委"])], service: ServiceDep,
                       format: Annotated[str, Query(pattern="^(" + "|".join(RENDERERS) + ")$",
                                                    description="md, html or json (as `summary --format`)")] = "md",
                       ) -> Response:
    """The cited summary of one department, rendered as `review-assistant summary --format` renders it."""
    chosen = renderer(format)
    return Response(chosen.render(service.summary(name)), media_type=chosen.media_type)


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
                service: ServiceDep,
                version: Annotated[str | None, Query(max_length=20, pattern=r"^v\d+$", examples=["v1"],
                                                    description="The answer's data_version (default: the one "
                                                                "being served)")] = None) -> dict:
    """The cited row as it stands in the published copy of the version the answer used."""
    return service.source_line(source, line, version)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/tables/xlsx", response_class=Response, tags=["answers"],
             responses={200: {"content": {XLSX: {}}, "description": "The table as an Excel workbook"}})
def table_xlsx(table: TableModel) -> Response:
    """An answer's table (the `table` of the answer contract) as an Excel workbook."""
    from api.exports import table_xlsx as build

    return Response(build(table.model_dump()), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="table.xlsx"'})


REPORT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}, "text/html": {}}, "description": "The report, PDF or HTML"},
          404: {"model": ErrorModel}}


def _report(service: Service, fmt: str, department: str | None = None, category: str | None = None) -> Response:
    from assistant.reports import ReportError, report

    try:
        body, media = report(service.corpus, department=department, category=category, fmt=fmt)
    except ReportError as exc:
        raise NotFound(exc.message, exc.suggestions) from None
    name = (department or category or "report") + "." + fmt
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"})


@router.get("/reports/departments/{name}.{fmt}", response_class=Response, responses=REPORT, tags=["reports"])
def department_report(name: Annotated[str, Path(max_length=100, examples=["市水利局"])],
                      fmt: Literal["pdf", "html"], service: ServiceDep) -> Response:
    """A print-ready department report: scores, ranks, coefficients, every item with its status and evidence,
    the chart, and each citation as a note with the document's title and line."""
    return _report(service, fmt, department=name)


@router.get("/reports/categories/{name}.{fmt}", response_class=Response, responses=REPORT, tags=["reports"])
def category_report(name: Annotated[str, Path(max_length=50, examples=["社会发展类"])],
                    fmt: Literal["pdf", "html"], service: ServiceDep) -> Response:
    """A print-ready category report: every department of the category, as in the department report."""
    return _report(service, fmt, category=name)
