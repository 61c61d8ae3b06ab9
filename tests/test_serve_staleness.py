"""Several processes on one data directory (issue #14 item 4): a running `ipqa serve` under load while another
process runs `ipqa ingest` on a changed document: no errors, and the new text answers once the ingest ends;
`ipqa doctor` reports a server that is behind the index."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, shared_doc
from test_load import Page, check_answer
from test_reliability_serve import IPQA, free_port, stop, wait_for_port
from test_store import QUESTION, _zephyr

from ipqa.api import Assistant
from ipqa.doctor import FAIL, OK, SERVER_GRACE, run_checks
from ipqa.embedding import Embedder
from ipqa.settings import Settings

CLIENTS = 10
SECONDS = 30
AFTER = 8  # seconds of questions after the outside ingest has ended
OTHER = "What does the Phonograms Convention protect producers of phonograms against?"


def _figure(bubble: str) -> int:
    found = set(re.findall(r"records for (\d+) years", bubble))
    assert len(found) == 1, f"one version quoted, not {found}: {bubble[:300]}"
    return int(found.pop())


@pytest.mark.slow
def test_server_follows_an_outside_ingest_under_load(tmp_path: Path, embedder: Embedder, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(shared_doc("wipo-phonograms-convention-1971.md"), folder)
    doc = folder / "zephyr.md"
    _zephyr(doc, 10)
    settings = Settings(data_dir=tmp_path / "index")
    assert not Assistant(settings, embedder=embedder).ingest([folder]).failed
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "IPQA_DATA_DIR": str(settings.data_dir)}
    for name in ("IPQA_AUTH", "IPQA_HOST", "IPQA_AUTH_FILE"):
        env.pop(name, None)
    log = tmp_path / "serve.log"
    with open(log, "w") as sink:
        child = subprocess.Popen([IPQA, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    errors: list[str] = []
    seen: list[tuple[float, float, int]] = []  # (asked at, answered at, figure quoted)
    answers = 0
    lock = threading.Lock()
    ingest_done: list[float] = []
    try:
        wait_for_port(port, child, log=log)
        url = f"http://127.0.0.1:{port}"
        config = httpx.get(f"{url}/config", timeout=60, trust_env=False).json()
        assert _figure(Page(url, config).ask(QUESTION)[0]) == 10  # warm: the model and the index are loaded
        end = time.monotonic() + SECONDS
        cap = end + 300  # the clients go on until the outside ingest has ended (a slow machine starts it slowly), within a bound

        def running() -> bool:
            now = time.monotonic()
            return now < cap and (now < end or not ingest_done or now < ingest_done[0] + AFTER)

        def client(seed: int) -> None:
            nonlocal answers
            rng = random.Random(seed)
            while running():
                page = Page(url, config)  # a fresh tab each time: no follow-up context
                question = rng.choice([QUESTION, QUESTION, OTHER])
                asked = time.monotonic()
                try:
                    bubble, panel, copy = page.ask(question)
                    check_answer(question, bubble, panel, copy, must_answer=True)
                    figure = _figure(bubble) if question == QUESTION else 0
                except (httpx.HTTPError, RuntimeError, AssertionError, KeyError, ValueError) as exc:
                    with lock:
                        errors.append(f"client {seed}: {type(exc).__name__}: {exc}"[:400])
                    continue
                with lock:
                    answers += 1
                    if figure:
                        seen.append((asked, time.monotonic(), figure))

        def outside_ingest() -> None:
            time.sleep(SECONDS / 6)
            _zephyr(doc, 42)
            out = subprocess.run([IPQA, "ingest", str(folder)], env=env, capture_output=True, text=True, timeout=600)
            ingest_done.append(time.monotonic())
            if out.returncode != 0 or "changed: zephyr" not in out.stdout:
                errors.append(f"outside ingest: {out.returncode} {out.stdout[-300:]} {out.stderr[-300:]}")

        threads = [threading.Thread(target=outside_ingest)] + [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 600)
        assert not any(t.is_alive() for t in threads), "a client hung"
        assert not errors, "\n".join(errors[:10])
        assert ingest_done, "the outside ingest ended"
        done = ingest_done[0]
        after = [figure for asked, _, figure in seen if asked > done]
        before = [figure for _, answered, figure in seen if answered < done]
        report = f"\n{answers} answers, 0 errors; about the changed document: {len(before)} before the ingest ended, {len(after)} after: {sorted(set(after))}"
        with capsys.disabled():
            print(report)
        assert after and set(after) == {42}, report  # answered from the new text once the ingest ended
        assert before and set(before) <= {10, 42}, report

        # The server keeps up even when idle; doctor says so.
        time.sleep(3)
        checks = [c for c in run_checks(settings, embedder) if c.name == "server"]
        assert [c.status for c in checks] == [OK], [c.line() for c in checks]
        # A server that stops following the index (here: paused) is reported once it falls behind.
        os.kill(child.pid, signal.SIGSTOP)
        try:
            _zephyr(doc, 77)
            assert subprocess.run([IPQA, "ingest", str(folder)], env=env, capture_output=True, timeout=600).returncode == 0
            time.sleep(SERVER_GRACE + 1)
            checks = [c for c in run_checks(settings, embedder) if c.name == "server"]
            assert [c.status for c in checks] == [FAIL] and "serves index generation" in checks[0].detail, [c.line() for c in checks]
            assert checks[0].fix == "restart that server"
        finally:
            os.kill(child.pid, signal.SIGCONT)
        time.sleep(4)
        assert _figure(Page(url, config).ask(QUESTION)[0]) == 77
        assert [c.status for c in run_checks(settings, embedder) if c.name == "server"] == [OK]
    finally:
        stop(child)
