"""Print-ready reports: the HTML and the PDF (weasyprint) of a department and a category, read back with
poppler's pdftotext; the CLI command and the HTTP routes."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from assistant.corpus import load_corpus
from assistant.render import status_label
from assistant.reports import ReportError, category_report, department_report, report
from assistant.summary import summarize
from tests.command_line import Done, invoke
from tests.conftest import DATA, ROOT


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    target = tmp_path_factory.mktemp("reports") / "data"
    shutil.copytree(DATA, target)
    return target


@pytest.fixture(scope="module")
def copied(data):
    return load_corpus(data)


def pdf_text(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext is not installed (apt-get install poppler-utils); `make setup-test` installs it")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text)  # layout breaks long cells over lines: compare without white space


def test_a_department_pdf_holds_the_score_every_item_and_the_footnotes(copied, tmp_path):
    pdf, media = report(copied, department="水利局", fmt="pdf")
    assert media == "application/pdf" and pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    summary = summarize(copied, "市水利局")
    assert "市水利局" in text and "125.27" in text and "第12名" in text and "1.1438" in text
    for year in summary.years:
        for item in year.items:
            assert re.sub(r"\s+", "", item.record.title) in text, item.record.title
            if item.status is not None:
                assert status_label(item.status.label) in text
    titles = {s.name: s.title for s in copied.sources}
    for c in summary.citations:  # each citation is a note: the document's title and the line
        assert re.sub(r"\s+", "", f"[{c.id}]") in text
        assert f"《{titles[c.source]}》第{c.line}行" in text, c


def test_the_html_report_has_print_css_an_svg_chart_from_zero_and_notes(copied):
    html = department_report(copied, "卫健委")
    assert "@page" in html and "<svg" in html and "市卫生健康委" in html
    bars = re.findall(r'<rect x="150" y="\d+" width="([\d.]+)"', html)
    assert len(bars) == 4 and max(map(float, bars)) == 380.0 and min(map(float, bars)) > 0.9 * 380
    notes = re.findall(r'<li id="note-(\d+)"', html)
    refs = set(re.findall(r'href="#note-(\d+)"', html))
    assert notes and refs == set(notes)
    with pytest.raises(ReportError) as missing:
        department_report(copied, "市教育局")
    assert missing.value.suggestions


@pytest.fixture(scope="module")
def cli_env(data, tmp_path_factory) -> dict[str, str]:
    var = tmp_path_factory.mktemp("reports-var")
    return {"REVIEW_ASSISTANT_DATA_DIR": str(data), "REVIEW_ASSISTANT_VAR_DIR": str(var),
            "REVIEW_ASSISTANT_AUDIT_LOG": str(var / "audit.jsonl")}


@pytest.fixture(scope="module")
def category_pdf(cli_env, tmp_path_factory) -> tuple[Done, str]:
    """`review-assistant report --category 社会发展类 --format pdf --output FILE`, rendered once for the tests of
    the category report and of the CLI: what the command did, and the text of the PDF it wrote."""
    folder = tmp_path_factory.mktemp("category-pdf")
    out = folder / "r.pdf"
    done = invoke("report", "--category", "社会发展类", "--format", "pdf", "--output", str(out), env=cli_env)
    return done, pdf_text(out.read_bytes(), folder) if out.exists() else ""


def test_a_category_report_covers_every_department_with_one_numbering(copied, category_pdf):
    html = category_report(copied, "社会发展类")
    members = [d.department for d in copied.departments if d.category == "社会发展类"]
    assert len(members) == 4 and all(m in html for m in members)
    notes = [int(n) for n in re.findall(r'<li id="note-(\d+)"', html)]
    assert notes == list(range(1, len(notes) + 1))
    done, text = category_pdf  # the same report() as a PDF, through the CLI
    assert done.returncode == 0, done.stderr
    assert "132.98" in text and all(m in text for m in members)
    with pytest.raises(ReportError):
        category_report(copied, "不存在类")


def test_the_cli_writes_a_report(cli_env, category_pdf):
    done, text = category_pdf
    assert done.returncode == 0, done.stderr
    assert "132.98" in text  # 市卫生健康委's score: a member of 社会发展类
    done = invoke("report", "卫健委", env=cli_env)
    assert done.returncode == 0 and "<svg" in done.stdout and "市卫生健康委" in done.stdout and done.stderr == ""
    done = invoke("report", "市教育局", env=cli_env)
    assert done.returncode == 1 and "市教育局" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_http_routes(shared_service, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from assistant.settings import Settings

    settings = Settings(var_dir=tmp_path, models_dir=ROOT / "var" / "models", collection="service")
    with TestClient(create_app(settings, make_service=lambda _: shared_service)) as client:
        r = client.get("/api/reports/departments/卫健委.pdf")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert "132.98" in pdf_text(r.content, tmp_path)
        r = client.get("/api/reports/categories/社会发展类.html")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html") and "<svg" in r.text
        r = client.get("/api/reports/departments/市教育局.pdf")
        assert r.status_code == 404 and r.json()["suggestions"]
        assert client.get("/api/reports/departments/卫健委.doc").status_code == 422
