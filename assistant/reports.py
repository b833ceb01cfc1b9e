"""Print-ready reports: one department, or one category. Scores, ranks, coefficients, every item with its status
and evidence, the chart as inline SVG, and each citation as a numbered note with the document's title and line.
HTML with print CSS (prompts/report.html.j2), or PDF through weasyprint."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.contract import Citation
from assistant.corpus import Corpus
from assistant.facts import DepartmentRow
from assistant.render import render
from assistant.summary import Summary, summarize


class ReportError(LookupError):
    def __init__(self, message: str, suggestions: list[str] | None = None):
        super().__init__(message)
        self.message, self.suggestions = message, suggestions or []


@dataclass
class Bar:
    label: str
    value: float
    text: str
    mine: bool


@dataclass
class Chart:
    """A horizontal bar chart from zero, laid out for SVG (user units: the SVG scales to the page width)."""

    title: str
    bars: list[Bar]
    label_width: int = 150
    bar_width: int = 380
    row: int = 24

    @property
    def height(self) -> int:
        return 30 + self.row * len(self.bars) + 20

    @property
    def width(self) -> int:
        return self.label_width + self.bar_width + 130

    def length(self, value: float) -> float:
        top = max((b.value for b in self.bars), default=0) or 1
        return round(max(1.0, value / top * self.bar_width), 1)


@dataclass
class Section:
    department: str
    summary: Summary
    offset: int  # the section's citation numbers follow the earlier sections'

    @property
    def note_refs(self) -> list[int]:
        """The citations behind a year's note (e.g. the ranks present in an excerpt): cited nowhere else."""
        used = {n for y in self.summary.years for n in y.cites.values()} | {
            it.cite for y in self.summary.years for it in y.items}
        return [c.id for c in self.summary.citations if c.id not in used]


def _score_chart(corpus: Corpus, row: DepartmentRow, mine: set[str]) -> Chart:
    rows = sorted((d for d in corpus.departments if d.year == row.year and d.category == row.category
                   and d.score is not None), key=lambda d: d.rank or 0)
    return Chart(f"{row.year}年 {row.category} 最终得分(数据中的部门,轴从0开始)",
                 [Bar(d.department, float(d.score or 0), f"{d.score}(第{d.rank}名)", d.department in mine)
                  for d in rows])


def _coefficient_chart(corpus: Corpus, year: int, mine: set[str], only: set[str] | None = None) -> Chart:
    rows = sorted((d for d in corpus.departments if d.year == year and d.coefficient is not None
                   and (only is None or d.department in only)), key=lambda d: -(d.coefficient or 0))
    return Chart(f"{year}年 评定难度系数(轴从0开始)",
                 [Bar(d.department, float(d.coefficient or 0), str(d.coefficient), d.department in mine) for d in rows])


def _titles(corpus: Corpus) -> dict[str, str]:
    return {s.name: s.title or s.name for s in corpus.sources}


def _notes(sections: list[Section], titles: dict[str, str]) -> list[tuple[int, Citation, str]]:
    return [(s.offset + c.id, c, titles.get(c.source, c.source)) for s in sections for c in s.summary.citations]


def department_report(corpus: Corpus, name: str) -> str:
    department = corpus.directory.resolve(name)
    if department is None or not corpus.records_of(department):
        raise ReportError(f"部门“{name}”不在数据中", corpus.directory.suggest(name))
    summary = summarize(corpus, department)
    charts = []
    for y in summary.years:
        if y.row.score is not None and y.category:
            charts.append(_score_chart(corpus, y.row, {department}))
        elif y.row.coefficient is not None:
            charts.append(_coefficient_chart(corpus, y.year, {department}))
    sections = [Section(department, summary, 0)]
    return render("report.html.j2", title=f"{department}承诺事项考核报告", kind="department", sections=sections,
                  charts=charts, notes=_notes(sections, _titles(corpus)), version=corpus.version, rows=[])


def categories(corpus: Corpus) -> list[str]:
    return list(dict.fromkeys(d.category for d in corpus.departments if d.category))


def category_report(corpus: Corpus, name: str) -> str:
    wanted = name.strip()
    if wanted not in categories(corpus):
        raise ReportError(f"类别“{name}”不在数据中", categories(corpus))
    rows = sorted((d for d in corpus.departments if d.category == wanted), key=lambda d: (d.year, d.rank or 0))
    sections, offset = [], 0
    for department in dict.fromkeys(d.department for d in rows):
        summary = summarize(corpus, department)
        sections.append(Section(department, summary, offset))
        offset += len(summary.citations)
    charts = [_score_chart(corpus, rows[0], set())] if rows and rows[0].score is not None else []
    members = {d.department for d in rows}
    for year in sorted({d.year for d in corpus.departments if d.department in members and d.coefficient is not None}):
        charts.append(_coefficient_chart(corpus, year, set(), members))
    return render("report.html.j2", title=f"{wanted}承诺事项考核报告", kind="category", sections=sections,
                  charts=charts, notes=_notes(sections, _titles(corpus)), version=corpus.version, rows=rows)


def to_pdf(html: str) -> bytes:
    """The HTML report as PDF (weasyprint; it needs pango, which `make setup` installs)."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def report(corpus: Corpus, department: str | None = None, category: str | None = None,
           fmt: str = "html") -> tuple[bytes, str]:
    """The report as bytes, with its media type."""
    html = category_report(corpus, category) if category else department_report(corpus, department or "")
    if fmt == "pdf":
        return to_pdf(html), "application/pdf"
    return html.encode("utf-8"), "text/html; charset=utf-8"

