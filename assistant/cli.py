"""`review-assistant`: a thin command line over the domain. Heavy parts are imported inside commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from assistant.records import IngestError

if TYPE_CHECKING:
    from assistant.corpus import Corpus
from assistant.settings import get_settings

app = typer.Typer(help="Citation-first answers over government performance review tables.",
                  no_args_is_help=True, add_completion=False)
console = Console()
errors = Console(stderr=True)

PathsArg = Annotated[list[Path] | None, typer.Argument(help="Source files; default: every file in data/sources.toml")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
YearOpt = Annotated[int | None, typer.Option("--year", help="Year of files not listed in sources.toml")]


def _fail(exc: IngestError) -> typer.Exit:
    for problem in exc.problems:
        errors.print(f"[red]error[/red] {problem}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(1)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _corpus() -> Corpus:
    from assistant.corpus import load_corpus

    try:
        return load_corpus(get_settings().data_dir)
    except IngestError as exc:
        raise _fail(exc) from None


@app.command()
def ingest(
    paths: PathsArg = None,
    check: Annotated[bool, typer.Option("--check", help="Validate only (the default; kept for scripts)")] = False,
    year: YearOpt = None,
) -> None:
    """Validate sources and print, per file, the rows read, records made and rows rejected."""
    from assistant.ingest import ingest_file, sources_for

    settings = get_settings()
    table = Table("file", "year", "kind", "rows read", "records", "departments", "rejected")
    problems = []
    try:
        for source in sources_for(paths or [], settings.data_dir, year):
            try:
                report = ingest_file(source)
            except IngestError as exc:
                problems.extend(exc.problems)
                table.add_row(source.name, str(source.year), source.kind or "?", "-", "-", "-", "file unreadable")
                continue
            kind = report.records[0].kind if report.records else (source.kind or "?")
            table.add_row(source.name, str(source.year), kind, str(report.rows_read), str(len(report.records)),
                          str(len({r.department for r in report.records})), str(len(report.rejected)))
            problems.extend(report.rejected)
    except IngestError as exc:
        raise _fail(exc) from None
    console.print(table)
    if problems:
        raise _fail(IngestError(problems))


@app.command()
def records(paths: PathsArg = None, as_json: JsonOpt = False, year: YearOpt = None) -> None:
    """Dump the records, each with its source and line."""
    from assistant.ingest import ingest, sources_for

    try:
        found = [r for rep in ingest(sources_for(paths or [], get_settings().data_dir, year)) for r in rep.records]
    except IngestError as exc:
        raise _fail(exc) from None
    if as_json:
        _print_json([r.to_json() for r in found])
        return
    table = Table("source:line", "year", "category", "department", "item", "title")
    for r in found:
        table.add_row(f"{r.source}:{r.line}", str(r.year), r.category or "", r.department, str(r.item), r.title)
    console.print(table)


@app.command()
def departments(as_json: JsonOpt = False) -> None:
    """One row per department and year: category, score, rank and coefficient."""
    from assistant.views import department_json

    corpus = _corpus()
    rows = [department_json(d) for d in corpus.departments]
    if as_json:
        _print_json(rows)
        return
    table = Table("year", "category", "department", "score", "rank", "coefficient", "items", "source:line")
    for d in corpus.departments:
        table.add_row(str(d.year), d.category or "", d.department, _text(d.score), _text(d.rank),
                      _text(d.coefficient), str(d.items), f"{d.source}:{d.line}")
    console.print(table)


@app.command()
def facts(department: Annotated[str, typer.Argument(help="A name or alias: 卫健委, 市水利局 …")],
          as_json: JsonOpt = False) -> None:
    """A department's items with their status against target and the evidence (aliases accepted)."""
    from assistant.views import department_facts

    corpus = _corpus()
    name = corpus.directory.resolve(department)
    if name is None or not corpus.records_of(name):
        hint = ", ".join(corpus.directory.suggest(department)) or ", ".join(corpus.directory.names[:5])
        errors.print(f"[red]error[/red] department {department!r} is not in the data; nearest: {hint}")
        raise typer.Exit(1)
    result = department_facts(corpus, name)
    if as_json:
        _print_json(result)
        return
    for year in result["years"]:
        console.print(
            f"[bold]{name}[/bold] {year['year']} ({year['kind']}) {year['category'] or ''} "
            f"score {_text(year['score_text'])} rank {_text(year['rank'])} "
            f"coefficient {_text(year['coefficient_text'])}  [dim]{year['source']}:{year['line']}[/dim]",
            highlight=False,
        )
        table = Table("item", "title", "status", "evidence", "line")
        for item in year["items"]:
            table.add_row(str(item["item"]), item["title"], item["status"] or "-", item["evidence"] or "",
                          str(item["line"]))
        console.print(table)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def main() -> None:  # pragma: no cover - console script entry
    app()
