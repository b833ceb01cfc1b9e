"""The chat page in a real browser: Playwright driving Debian's Chromium, headless, against real servers on
127.0.0.1 (`review-assistant serve`, and the app under uvicorn in this process where a test must stop the server
or make it fail). Screenshots go to test-artifacts/."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.server]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed (apt-get install chromium); `make test` installs it")
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


# ---- an in-process server whose service can be stopped, slowed or made to fail -----------------------

class Switchable:
    """The real service, with a switch: "ok", "crash" (a 500), "slow" (answers after 3 s)."""

    def __init__(self, service):
        self.service, self.mode = service, "ok"

    def __getattr__(self, name):
        return getattr(self.service, name)

    def ask(self, question, filters=None, history=None, **more):
        if self.mode == "crash":
            raise RuntimeError("the service failed")
        if self.mode == "slow":
            time.sleep(3)
        return self.service.ask(question, filters=filters, history=history, **more)


class Served:
    def __init__(self, app, port):
        import uvicorn

        self.app, self.port = app, port
        self.base = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self):
        import urllib.request

        self.thread.start()
        for _ in range(200):
            with contextlib.suppress(OSError), urllib.request.urlopen(self.base + "/health", timeout=2):
                return self
            time.sleep(0.05)
        raise RuntimeError("the in-process server did not come up")

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def switchable_server(shared_service, tmp_path_factory):
    """The app on a real port, over the real service behind a switch; `restart()` brings it back on that port.
    One for the module: each test gets it answering, its switch on "ok" (the `switchable` fixture)."""
    from api.app import create_app
    from assistant.settings import Settings

    service = Switchable(shared_service)
    settings = Settings(var_dir=tmp_path_factory.mktemp("switchable"), models_dir=ROOT / "var" / "models",
                        collection="service")
    port = free_port()
    state = {"served": Served(create_app(settings, make_service=lambda _: service), port).start()}

    def restart():
        state["served"] = Served(create_app(settings, make_service=lambda _: service), port).start()

    def stop():
        state["served"].stop()
        state["served"] = None

    def ensure_up():
        if state["served"] is None:
            restart()

    service.base, service.stop, service.restart, service.ensure_up = state["served"].base, stop, restart, ensure_up
    yield service
    if state["served"] is not None:
        state["served"].stop()


@pytest.fixture
def switchable(switchable_server):
    switchable_server.ensure_up()  # a test that failed with the server stopped leaves none behind
    switchable_server.mode = "ok"
    yield switchable_server
    switchable_server.mode = "ok"


def ask(page, question, count):
    page.fill("#question", question)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('.msg.assistant:not([data-state=streaming])').length == {count}",
                           timeout=60_000)
    return page.locator(".msg.assistant").nth(count - 1)


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    height = page.evaluate("window.innerHeight")
    return box is not None and box["y"] < height and box["y"] + min(box["height"], 40) > 0


# ---- the real server ------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_answers_scroll_into_view_and_citations_show_titles(browser, live_server, size):
    page = browser.new_page(**({"viewport": DESKTOP} if size == "desktop" else PHONE))
    page.goto(live_server + "/")
    questions = ["市水利局2022年最终得分多少?", "哪些部门超额完成了目标?", "为农服务网点有多少家?", "卫健委得分多少?"]
    for n, question in enumerate(questions, 1):
        bubble = ask(page, question, n)
        assert bubble.get_attribute("data-state") == "done"
        assert in_view(page, bubble), f"answer {n} is not in view"
    first = page.locator(".msg.assistant").first
    assert "125.27" in first.locator(".answer").inner_text()
    sources = first.locator(".sources").inner_text()
    assert "湖州市市直单位2022年度承诺事项兑现情况" in sources and "第21行" in sources
    assert "000_7fc1be17f2f87087.txt" not in sources  # the file name is on hover only
    assert first.locator(".sources .doc").first.get_attribute("title") == "000_7fc1be17f2f87087.txt:21"
    assert "mode:" not in page.inner_text("#messages")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width}px"
    page.screenshot(path=str(ARTIFACTS / f"chat-scrolled-{size}.png"))

    first.locator(".answer a.cite").first.click()
    page.wait_for_selector("#panel:not([hidden]) mark", timeout=30_000)
    assert page.inner_text("#panel mark") == "125.27"
    where = page.locator("#panel .where")
    assert "湖州市市直单位2022年度" in where.inner_text() and where.get_attribute("title").endswith(".txt:21")
    page.screenshot(path=str(ARTIFACTS / f"chat-citation-{size}.png"))

    requests = []
    page.on("request", lambda r: requests.append(r) if r.url.endswith("/v1/chat/completions") else None)
    page.click("#close-panel")  # on a phone the source sheet covers the form until it is closed
    page.click("#clear")
    assert page.locator("#messages .msg").count() == 0
    ask(page, "卫健委得分多少?", 1)
    assert [m["content"] for m in json.loads(requests[-1].post_data)["messages"]] == ["卫健委得分多少?"]
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/static/favicon.svg")
    page.close()


def test_department_pages(browser, live_server):
    page = browser.new_page(**PHONE)
    page.goto(live_server + "/departments/卫健委")
    page.wait_for_selector("#chart .bar-row.mine", timeout=60_000)
    rows = page.locator("#chart .bar-row")
    assert rows.count() == 4 and "132.98" in page.inner_text("#summary")
    assert page.inner_text("#current") == "市卫生健康委"
    assert page.input_value("#dept-nav") == "市卫生健康委"
    sizes = page.eval_on_selector_all("#chart .bar-label, #chart .bar-value",
                                      "nodes => nodes.map(n => parseFloat(getComputedStyle(n).fontSize))")
    assert min(sizes) >= 12, sizes
    # every value label fits inside the chart
    fits = page.eval_on_selector_all("#chart .bar-value", "nodes => nodes.map(n => n.scrollWidth <= n.clientWidth "
                                     "&& n.getBoundingClientRect().right <= document.querySelector('#chart')"
                                     ".getBoundingClientRect().right)")
    assert all(fits)
    # the axis starts at zero: bar lengths are in the ratio of the scores
    ratios = page.eval_on_selector_all("#chart .bar", "nodes => nodes.map(n => n.getBoundingClientRect().width / "
                                       "n.parentNode.getBoundingClientRect().width)")
    values = [float(t.split("(")[0]) for t in page.locator("#chart .bar-value").all_inner_texts()]
    for ratio, value in zip(ratios, values, strict=True):
        assert abs(ratio - value / max(values)) < 0.01
    source = page.locator("#summary ol.sources li").first
    assert source.inner_text().startswith("湖州市市直单位2022年度")
    assert source.get_attribute("title").endswith(".txt:68")  # the file name on hover
    pdf = page.request.get(live_server + page.get_attribute("#reports a[href*='/departments/'][href$='.pdf']", "href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    assert page.locator("#reports a.category-report").inner_text().startswith("社会发展类")
    page.locator("#summary a.cite").first.click()
    page.wait_for_selector("#panel:not([hidden]) mark", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "department-phone.png"), full_page=True)

    page.goto(live_server + "/departments/市科协")  # only 2023 targets: a chart of the coefficients
    page.wait_for_selector("#chart .bar-row.mine", timeout=60_000)
    assert "评定难度系数" in page.inner_text("#chart figcaption") and page.locator("#chart .bar-row").count() > 10
    page.screenshot(path=str(ARTIFACTS / "department-2023-phone.png"), full_page=True)

    response = page.goto(live_server + "/departments/市教育局")
    assert response is not None and response.status == 404
    page.wait_for_selector("#summary .suggestions a", timeout=60_000)
    text = page.inner_text("#summary")
    assert not any(ch.isascii() and ch.isalpha() for ch in text), text  # one language
    links = page.locator("#summary .suggestions a").all_inner_texts()
    assert links and all(link.startswith("市") for link in links)
    page.screenshot(path=str(ARTIFACTS / "department-unknown-phone.png"), full_page=True)
    page.close()


# ---- a server that stops, fails or is slow --------------------------------------------------------------

@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_errors_show_in_the_bubble_with_a_retry_and_are_not_history(browser, switchable, size):
    page = browser.new_page(**({"viewport": DESKTOP} if size == "desktop" else PHONE))
    page.add_init_script("window.REVIEW_ASSISTANT_TIMEOUT_MS = 1500")
    requests = []
    page.on("request", lambda r: requests.append(r) if r.url.endswith("/v1/chat/completions") else None)
    page.goto(switchable.base + "/")
    ask(page, "市水利局2022年最终得分多少?", 1)

    switchable.stop()
    failed = ask(page, "卫健委得分多少?", 2)
    assert failed.get_attribute("data-state") == "error"
    assert "网络错误" in failed.locator(".error").inner_text() and failed.locator("button.retry").is_visible()
    assert in_view(page, failed.locator("button.retry"))
    page.screenshot(path=str(ARTIFACTS / f"chat-server-stopped-{size}.png"))
    switchable.restart()

    switchable.mode = "crash"
    crashed = ask(page, "为农服务网点有多少家?", 3)
    assert re.fullmatch("服务器出错\\(500\\)。事件编号 [0-9a-f]{12}。", crashed.locator(".error").inner_text())
    switchable.mode = "slow"
    slow = ask(page, "市水利局2022年最终得分多少?", 4)
    assert "请求超时" in slow.inner_text()
    switchable.mode = "ok"

    failed.locator("button.retry").click()
    page.wait_for_function("document.querySelectorAll('.msg.assistant')[1].dataset.state == 'done'", timeout=60_000)
    assert "132.98" in failed.inner_text()
    sent = json.loads(requests[-1].post_data)["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]  # the failed exchanges are not history
    assert sent[0]["content"] == "市水利局2022年最终得分多少?" and "125.27" in sent[1]["content"]
    assert sent[2]["content"] == "卫健委得分多少?"
    page.screenshot(path=str(ARTIFACTS / f"chat-retried-{size}.png"), full_page=True)
    page.close()


def test_a_4xx_shows_in_the_bubble(browser, shared_service, tmp_path):
    from api.app import create_app
    from assistant.settings import Settings

    settings = Settings(var_dir=tmp_path, models_dir=ROOT / "var" / "models", collection="service", api_keys="k1")
    served = Served(create_app(settings, make_service=lambda _: shared_service), free_port()).start()
    try:
        page = browser.new_page(viewport=DESKTOP)
        page.on("dialog", lambda d: d.dismiss())  # no key entered
        page.goto(served.base + "/")
        bubble = ask(page, "卫健委得分多少?", 1)
        assert "请求有误(401)" in bubble.inner_text() and bubble.locator("button.retry").count() == 1
        page.close()
    finally:
        served.stop()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_ranking_shows_a_table_a_chart_and_downloads(browser, switchable, size):
    """The table the query layer builds for a real top-N answer (nothing injected)."""
    from openpyxl import load_workbook

    question = "社会发展类得分前四名"
    expected = switchable.service.ask(question).table
    assert expected is not None and len(expected.rows) == 4
    labels = [c.label for c in expected.columns]
    page = browser.new_page(accept_downloads=True, **({"viewport": DESKTOP} if size == "desktop" else PHONE))
    page.goto(switchable.base + "/")
    bubble = ask(page, question, 1)
    table = bubble.locator(".answer-table table")
    assert table.locator("tbody tr").count() == 4
    assert table.locator("th").all_inner_texts() == labels and "部门" in labels and "最终得分" in labels
    assert "市卫生健康委" in table.inner_text() and "132.98" in table.inner_text()
    assert "| 部门 |" not in bubble.locator(".answer").inner_text()  # the markdown table is for other clients
    bars = bubble.locator(".bars .bar-row")
    assert bars.count() == 4
    ratios = bubble.locator(".bars .bar").evaluate_all(
        "nodes => nodes.map(n => n.getBoundingClientRect().width / n.parentNode.getBoundingClientRect().width)")
    assert min(ratios) > 0.9  # scores 128 to 136 from an axis at zero: bars of nearly equal length
    assert in_view(page, bubble)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width}px"
    page.screenshot(path=str(ARTIFACTS / f"chat-table-{size}.png"), full_page=True)

    with page.expect_download() as csv_download:
        bubble.locator("button.download-csv").click()
    csv = Path(csv_download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert csv[0] == ",".join(labels) and len(csv) == 5 and "市卫生健康委" in "".join(csv)
    with page.expect_download() as xlsx_download:
        bubble.locator("button.download-xlsx").click()
    sheet = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == expected.title and values[2] == labels
    score = labels.index("最终得分")
    assert any("市卫生健康委" in row and row[score] == 132.98 for row in values[3:])
    page.close()
