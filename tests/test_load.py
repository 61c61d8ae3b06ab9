"""Concurrent use (issue #6): 20 browser-like sessions ask questions of a running `ipqa serve` for 60 s
while the app re-ingests its corpus folder: no errors, every answer keeps its citations, p95 reported.

The sessions speak the protocol the web page itself uses (POST /gradio_api/queue/join, then the event
stream of GET /gradio_api/queue/data), on 127.0.0.1 only; each has its own session, so its own chat state."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, shared_doc
from test_reliability_serve import IPQA, free_port, stop, wait_for_port

from ipqa.api import Assistant
from ipqa.doctor import OK, run_checks
from ipqa.embedding import Embedder
from ipqa.settings import Settings

SESSIONS = 20
SECONDS = 60
REQUEST_TIMEOUT = 180  # bounds the tail: an answer slower than this counts as an error
NOTES_PER_ROUND = 120

# Questions the index answers (each must come back with citations) and one it cannot (the refusal).
ANSWERABLE = [
    "What does the Phonograms Convention protect producers of phonograms against?",
    "Are computer programs protected as literary works?",
    "What does the WIPO Copyright Treaty say about the right of communication to the public?",
    "What did Japan and WIPO discuss about AI and intellectual property?",
    "What obligations concerning technological measures does the WCT impose?",
]
UNANSWERABLE = ["What is the boiling point of mercury at sea level?"]
# About documents the concurrent ingest is adding: answered or refused depending on timing, but never broken.
MOVING = ["What does licence 7 allow the archive to digitise?", "Which collection does licence 31 cover?"]


@dataclass
class Stats:
    """What the sessions saw, shared between threads."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answered: int = 0
    refused: int = 0
    citations: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class Page:
    """One browser tab: its own session hash, chat history and event stream."""

    def __init__(self, url: str, config: dict[str, Any]) -> None:
        self.client = httpx.Client(base_url=url, timeout=httpx.Timeout(REQUEST_TIMEOUT, connect=10), trust_env=False)
        self.session = uuid.uuid4().hex[:12]
        by_elem = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
        self.ask_trigger = by_elem["ipqa-ask"]
        self.reingest_trigger = by_elem["ipqa-reingest"]
        self.ask_fn = _fn_for(config, self.ask_trigger)
        self.reingest_fn = _fn_for(config, self.reingest_trigger)
        self.chat: list[Any] = []

    def event(self, fn_index: int, trigger: int, data: list[Any]) -> dict[str, Any]:
        """Run one event as the page does; the `process_completed` message."""
        joined = self.client.post(
            "/gradio_api/queue/join", json={"data": data, "event_data": None, "fn_index": fn_index, "trigger_id": trigger, "session_hash": self.session}
        )
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        with self.client.stream("GET", "/gradio_api/queue/data", params={"session_hash": self.session}) as stream:
            stream.raise_for_status()
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    return message
                if message.get("msg") in ("unexpected_error", "close_stream") and message.get("event_id") in (event_id, None):
                    raise RuntimeError(f"stream ended without a result: {message}")
        raise RuntimeError("event stream closed early")

    def ask(self, question: str) -> tuple[str, str, str]:
        """(answer bubble HTML, sources panel HTML, copy text) for a question in this session."""
        done = self.event(self.ask_fn, self.ask_trigger, [question, self.chat, None, [], [], 6])
        if not done.get("success"):
            raise RuntimeError(f"event failed: {json.dumps(done)[:300]}")
        chat, _, panel, _, copy = done["output"]["data"]
        self.chat = chat
        bubble = chat[-1]["content"]
        bubble = bubble[0]["text"] if isinstance(bubble, list) else bubble
        return bubble, panel, copy


def _fn_for(config: dict[str, Any], trigger: int) -> int:
    return next(d["id"] for d in config["dependencies"] if [trigger, "click"] in d["targets"])


def check_answer(question: str, bubble: str, panel: str, copy: str, must_answer: bool = False) -> tuple[bool, int]:
    """(answered, citations); raises AssertionError when an answer lost or broke its citations."""
    cited = [int(n) for n in re.findall(r'class="ipqa-cite"[^>]*>\[(\d+)\]</a>', bubble)]
    cards = [int(n) for n in re.findall(r'class="ipqa-card[^"]*" id="ipqa-src-\d+-(\d+)"', panel)]
    sources = [int(n) for n in re.findall(r"^\[(\d+)\] ", copy, re.M)]
    if "ipqa-refusal" in bubble:
        assert not cited and not cards and not must_answer, f"refused an answerable question: {question}"
        return False, 0
    assert "ipqa-answer" in bubble and "ipqa-streaming" not in bubble, f"no final answer for {question!r}: {bubble[:200]}"
    assert cited, f"an answer without citations for {question!r}"
    assert set(cited) == set(cards) == set(sources), f"markers {cited}, cards {cards}, sources {sources} for {question!r}"
    return True, len(set(cited))


def _write_notes(folder: Path, round_no: int) -> None:
    for i in range(NOTES_PER_ROUND):
        n = round_no * NOTES_PER_ROUND + i
        (folder / f"licence-{n:04d}.md").write_text(f"# Licence {n}\n\nLicence {n} allows the archive to digitise collection {n * 3}.\n")


@pytest.mark.slow
def test_twenty_sessions_for_a_minute_while_ingesting(tmp_path: Path, embedder: Embedder, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(data_dir=tmp_path / "index", corpus_dir=tmp_path / "corpus")
    names = ["wipo-copyright-treaty-wct-1996.md", "wipo-phonograms-convention-1971.md", "wipo-japan-ai-ip-2026-commentary.txt"]
    assert not Assistant(settings, embedder=embedder).ingest([shared_doc(n) for n in names]).failed
    settings.corpus_dir.mkdir()
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "IPQA_DATA_DIR": str(settings.data_dir), "IPQA_CORPUS_DIR": str(settings.corpus_dir)}
    for name in ("IPQA_AUTH", "IPQA_HOST"):
        env.pop(name, None)
    log = tmp_path / "serve.log"
    with open(log, "w") as sink:  # a file, not a pipe nobody reads for a minute
        child = subprocess.Popen([IPQA, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    stats, ingests = Stats(), []
    try:
        wait_for_port(port, child, log=log)
        url = f"http://127.0.0.1:{port}"
        config = httpx.get(f"{url}/config", timeout=60, trust_env=False).json()
        warm = Page(url, config)
        check_answer(ANSWERABLE[0], *warm.ask(ANSWERABLE[0]), must_answer=True)  # the model is loaded before the clock starts

        end = time.monotonic() + SECONDS

        def session(seed: int) -> None:
            rng = random.Random(seed)
            for turn in range(10**6):
                if time.monotonic() >= end:
                    return
                # A user opens a tab, asks a question the sources answer, then two follow-ups of any kind
                # (a follow-up may be read in the light of the previous question, so it may be refused).
                if turn % 3 == 0:
                    page, question = Page(url, config), rng.choice(ANSWERABLE)
                else:
                    question = rng.choice(ANSWERABLE + UNANSWERABLE + MOVING)
                started = time.perf_counter()
                try:
                    bubble, panel, copy = page.ask(question)
                    answered, n = check_answer(question, bubble, panel, copy, must_answer=turn % 3 == 0)
                except (httpx.HTTPError, RuntimeError, AssertionError, KeyError, ValueError) as exc:
                    stats.error(f"session {seed}: {type(exc).__name__}: {exc}"[:400])
                    continue
                with stats.lock:
                    stats.latencies.append(time.perf_counter() - started)
                    stats.answered += answered
                    stats.refused += not answered
                    stats.citations += n

        def ingesting() -> None:
            page, round_no = Page(url, config), 0
            while time.monotonic() < end:
                _write_notes(settings.corpus_dir, round_no)
                started = time.perf_counter()
                try:
                    done = page.event(page.reingest_fn, page.reingest_trigger, [])
                    status = done["output"]["data"][0] if done.get("success") else json.dumps(done)[:300]
                    assert f"{NOTES_PER_ROUND} added" in status and "0 failed" in status, status[:300]
                except (httpx.HTTPError, RuntimeError, AssertionError, KeyError) as exc:
                    stats.error(f"ingest round {round_no}: {type(exc).__name__}: {exc}"[:400])
                    return
                ingests.append((round_no, time.perf_counter() - started))
                round_no += 1

        threads = [threading.Thread(target=ingesting)] + [threading.Thread(target=session, args=(i,)) for i in range(SESSIONS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 2 * REQUEST_TIMEOUT + 60)
        wall = time.monotonic() - started
        assert not any(t.is_alive() for t in threads), "a session hung past its bound"
    finally:
        stop(child)

    lat = sorted(stats.latencies)
    p50, p95 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(0.95 * len(lat)))]
    report = (
        f"\nload: {SESSIONS} sessions for {SECONDS}s ({wall:.0f}s with the last answers) while ingesting: {len(lat)} answers "
        f"({stats.answered} cited, {stats.refused} refused, {stats.citations} citations), {len(stats.errors)} errors; "
        f"latency p50 {p50:.2f}s, p95 {p95:.2f}s, max {lat[-1]:.2f}s; "
        f"ingest rounds of {NOTES_PER_ROUND} notes: {', '.join(f'{s:.1f}s' for _, s in ingests)}"
    )
    with capsys.disabled():
        print(report)
    assert not stats.errors, "\n".join(stats.errors[:10])
    assert len(lat) >= SESSIONS and stats.answered >= SESSIONS, report
    assert ingests, "an ingest completed while the sessions were asking"
    checks = run_checks(settings, embedder)
    assert {c.status for c in checks if c.name in ("crash records", "orphans", "bm25", "bookkeeping")} == {OK}, [c.line() for c in checks]
    assert len(Assistant(settings, embedder=embedder).sources()) == 3 + NOTES_PER_ROUND * len(ingests)
