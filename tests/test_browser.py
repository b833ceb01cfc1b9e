"""The chat page in a real browser: Playwright driving Debian's Chromium, headless, against a live server."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.server]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps"]


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed (apt-get install chromium); `make test` installs it")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


def test_ask_see_the_answer_click_a_citation(browser, live_server):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server + "/")
    page.fill("#question", "市水利局2022年最终得分多少?")
    page.click("#send")
    page.wait_for_selector(".msg.assistant[data-state=done] a.cite", timeout=60_000)
    answer = page.inner_text(".msg.assistant .answer")
    assert "125.27" in answer and "[1]" in answer
    page.click(".msg.assistant .answer a.cite >> nth=0")
    page.wait_for_selector("#panel:not([hidden]) mark", timeout=30_000)
    panel = page.inner_text("#panel")
    assert "市水利局" in panel and "000_7fc1be17f2f87087.txt:21" in panel
    assert page.inner_text("#panel mark") == "125.27"
    page.screenshot(path=str(ARTIFACTS / "chat-desktop.png"), full_page=True)

    page.fill("#question", "为农服务网点有多少家?")
    page.click("#send")
    page.wait_for_function("document.querySelectorAll('.msg.assistant[data-state=done]').length == 2",
                           timeout=60_000)
    last = page.locator(".msg.assistant").nth(1)
    assert "2183" in last.inner_text()
    last.locator(".answer a.cite").first.click()
    page.wait_for_function("document.querySelector('#panel mark') && "
                           "document.querySelector('#panel mark').textContent.includes('2183')", timeout=30_000)
    page.close()


def test_phone_width_and_department_page(browser, live_server):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(live_server + "/")
    page.fill("#question", "哪些部门超额完成了目标?")
    page.click("#send")
    page.wait_for_selector(".msg.assistant[data-state=done] a.cite", timeout=60_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
    page.locator(".msg.assistant .answer a.cite").first.click()
    page.wait_for_selector("#panel:not([hidden]) mark", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "chat-phone.png"))

    page.goto(live_server + "/departments/卫健委")
    page.wait_for_selector("#chart svg rect.mine", timeout=60_000)
    assert page.locator("#chart svg rect").count() == 4
    assert "132.98" in page.inner_text("#summary")
    page.locator("#summary a.cite").first.click()
    page.wait_for_selector("#panel:not([hidden]) mark", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "department-phone.png"), full_page=True)
    page.close()
