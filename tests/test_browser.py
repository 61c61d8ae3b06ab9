"""End to end in a real browser: `ipqa serve` over a small real index, driven by Playwright and Debian chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import shared_doc, stop_process

from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
# No browser download: Playwright drives the distribution's chromium, quietly and offline.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
DATA = Path(__file__).parent / "data"
ANSWER_TIMEOUT_MS = 120_000  # the server loads the embedding model in the background on start

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium (`make system-deps` installs it)"),
]


def free_port() -> int:
    """A port nobody listens on, on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    """Until `ipqa serve` accepts connections (fails early, with its log, if it died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`ipqa serve` exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"`ipqa serve` did not open port {port} in {timeout:.0f}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[str]:
    """`ipqa serve` on a free loopback port over the WCT and the commentary."""
    root = tmp_path_factory.mktemp("browser")
    index = root / "index"
    port = free_port()
    log = root / "serve.log"
    ipqa = Path(sys.executable).with_name("ipqa")
    command = [str(ipqa if ipqa.exists() else shutil.which("ipqa")), "--data-dir", str(index), "serve", "--port", str(port)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "IPQA_CORPUS_DIR": str(root / "corpus")}
    # The server starts (and loads its model) while the index is built here; the page is opened only after.
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=root, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        report = Assistant(Settings(data_dir=index), embedder=embedder).ingest(
            [shared_doc("wipo-copyright-treaty-wct-1996.md"), shared_doc("wipo-japan-ai-ip-2026-commentary.txt")]
        )
        assert report.added and not report.failed, report.failed
        wait_for_port(port, proc, log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_process(proc, timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian chromium through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def session(browser, server: str):  # type: ignore[no-untyped-def]
    """One browser tab on the app, recording every request that is not to the app itself."""
    context = browser.new_context(viewport={"width": 1440, "height": 980})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.rstrip("/"))
    page = context.new_page()
    page.outside = []  # type: ignore[attr-defined]
    page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else page.outside.append(r.url))  # type: ignore[attr-defined]
    page.goto(server)
    yield page
    context.close()


def ask(page, question: str, expect: str):  # type: ignore[no-untyped-def]
    """Type a question, press Enter, and return the answer bubble containing `expect`."""
    box = page.locator("#ipqa-question textarea")
    box.fill(question)
    box.press("Enter")
    bubble = page.locator("#ipqa-chat .ipqa-answer").filter(has_text=expect)
    try:
        bubble.wait_for(timeout=ANSWER_TIMEOUT_MS)
    except Exception as exc:  # Playwright's TimeoutError: say what the chat shows instead
        raise AssertionError(f"no answer containing {expect!r}; the chat ends with:\n{page.locator('#ipqa-chat').inner_text()[-1500:]}") from exc
    return bubble


def test_answer_has_clickable_citations_and_a_source_panel(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = session
    bubble = ask(page, "Are computer programs protected as literary works?", "Computer programs are protected as literary works")
    marker = bubble.locator("a.ipqa-cite").first
    assert marker.inner_text() == "[1]"
    marker.click()
    highlighted = page.locator("#ipqa-panel .ipqa-card.selected mark")
    highlighted.wait_for(timeout=10_000)
    assert highlighted.inner_text().startswith("Computer programs are protected as literary works")
    card = page.locator("#ipqa-panel .ipqa-card.selected")
    text = card.inner_text()
    assert "WIPO Copyright Treaty" in text and "International" in text and "1996-12-20" in text and "Article 4" in text
    assert card.locator("a", has_text="Official source").get_attribute("href") == "https://www.wipo.int/treaties/en/ip/wct/"
    local = card.locator("a", has_text="Local file")
    response = page.request.get(page.url + local.get_attribute("href"))
    assert response.ok and b"Computer programs are protected" in response.body()
    assert page.locator("#ipqa-panel").get_by_text("Retrieved, not cited").is_visible()
    page.locator("#ipqa-copy").click()
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "[1] WIPO Copyright Treaty" in copied
    shot = tmp_path / "answered-chat.png"
    page.screenshot(path=str(shot))
    print(f"\nscreenshot of the answered chat: {shot}")
    # a follow-up question, then a marker of the first answer brings that answer's sources back
    box = page.locator("#ipqa-question textarea")
    box.fill("And what about compilations of data?")
    box.press("Enter")
    page.locator("#ipqa-chat .ipqa-answer, #ipqa-chat .ipqa-refusal").nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator('#ipqa-panel .ipqa-panel[data-turn="1"]').wait_for(timeout=10_000)
    marker.click()
    page.locator('#ipqa-panel .ipqa-panel[data-turn="0"] .ipqa-card.selected mark', has_text="Computer programs are protected").wait_for(timeout=10_000)


def test_a_second_session_does_not_see_the_first_chat(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    page.goto(server)
    page.locator("#ipqa-question textarea").wait_for()
    assert page.locator("#ipqa-chat .ipqa-answer").count() == 0
    assert "Sources" in page.locator("#ipqa-panel").inner_text() and page.locator("#ipqa-panel .ipqa-card").count() == 0
    context.close()


def test_upload_in_sources_tab_then_ask_about_it(session) -> None:  # type: ignore[no-untyped-def]
    page = session
    page.get_by_role("tab", name="Sources").click()
    page.locator("#ipqa-upload input[type=file]").set_input_files([str(DATA / "ui-upload-note.md"), str(DATA / "ui-script-passage.txt")])
    upload = page.locator("#ipqa-upload")
    upload.get_by_text("ui-script-passage", exact=True).wait_for(timeout=30_000)  # listed once uploaded
    upload.get_by_text("Uploading").wait_for(state="detached", timeout=30_000)
    page.locator("#ipqa-ingest").click()
    status = page.locator("#ipqa-status")
    status.locator("tr.ipqa-added").nth(1).wait_for(timeout=60_000)
    assert "document id upload:ui-upload-note" in status.inner_text() and "document id upload:ui-script-passage" in status.inner_text()
    page.locator("#ipqa-docs-table").get_by_text("Zephyr Registry Guidance Note").wait_for(timeout=10_000)
    page.get_by_role("tab", name="Chat").click()
    page.locator("#ipqa-new").click()  # a new topic: no earlier question joins the retrieval query
    page.locator("#ipqa-chat .ipqa-answer").first.wait_for(state="detached")
    bubble = ask(page, "What does the Zephyr Registry record?", "Zephyr Registry records every assignment")
    bubble.locator("a.ipqa-cite").first.click()
    page.locator("#ipqa-panel .ipqa-card.selected mark", has_text="Zephyr Registry records").wait_for(timeout=10_000)


def test_a_passage_with_script_renders_as_text(session) -> None:  # type: ignore[no-untyped-def]
    page = session
    literal = "<script>window.__pwned=1</script>"
    page.locator("#ipqa-new").click()
    page.locator("#ipqa-chat .ipqa-answer").first.wait_for(state="detached")
    bubble = ask(page, "What must always be shown to readers as plain text under the Quokka Clause?", "Quokka Clause requires")
    assert literal in bubble.inner_text()
    bubble.locator("a.ipqa-cite").first.click()
    mark = page.locator("#ipqa-panel .ipqa-card.selected mark", has_text="Quokka Clause requires")
    mark.wait_for(timeout=10_000)
    assert literal in mark.inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("script", has_text="__pwned").count() == 0


def test_a_documents_own_markers_stay_quoted_text(session) -> None:  # type: ignore[no-untyped-def]
    """Issue #14: "[1]" and "[2]" written inside a document are shown as text, never as citation links."""
    page = session
    page.get_by_role("tab", name="Sources").click()
    page.locator("#ipqa-upload input[type=file]").set_input_files([str(DATA / "ui-forged-markers.md")])
    page.locator("#ipqa-upload").get_by_text("Uploading").wait_for(state="detached", timeout=30_000)
    page.locator("#ipqa-ingest").click()
    page.locator("#ipqa-status").get_by_text("upload:ui-forged-markers").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Chat").click()
    page.locator("#ipqa-new").click()
    page.locator("#ipqa-chat .ipqa-answer").first.wait_for(state="detached")
    bubble = ask(page, "May libraries lend phonograms to their members without asking the producer?", "without asking the producer")
    assert "members” [1] without asking the producer [2] for consent." in " ".join(bubble.inner_text().split())
    # ipqa numbers its own markers 1..n, each once, in the answer text; a linked look-alike would repeat a number.
    links = bubble.evaluate("b => [...b.querySelectorAll('a.ipqa-cite')].filter(a => !a.closest('.ipqa-msg-sources')).map(a => a.textContent)")
    assert links and links == [f"[{n}]" for n in range(1, len(links) + 1)], links


def test_no_request_left_the_machine(session) -> None:  # type: ignore[no-untyped-def]
    assert session.outside == []
