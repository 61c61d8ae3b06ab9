"""The answer log: every answer appended to <data_dir>/answers.jsonl; `ipqa ask --json` prints the same record."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import DATA

from ipqa import __version__, answerlog
from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.settings import Settings

SAMPLE = DATA / "treaty_sample.md"


def test_every_answer_is_logged_with_what_it_rests_on(settings: Settings, embedder: Embedder) -> None:
    assistant = Assistant(settings, embedder=embedder)
    assistant.ingest([SAMPLE])
    answered = assistant.ask("For how many years shall each Contracting Party protect sample works?")
    refused = assistant.ask("What is the capital of Mongolia?")
    records = answerlog.read(settings)
    assert [r["question"] for r in records] == [answered.question, refused.question]
    first, second = records
    assert first["kind"] == answered.kind == "answered" and second["kind"] == refused.kind == "refused"
    assert first["engine"] == "extractive" and first["ipqa_version"] == __version__
    assert first["index_fingerprint"] == assistant.store.fingerprint() and len(first["index_fingerprint"]) == 16
    assert first["time"].endswith("Z") and first["text"] == answered.text
    assert len(first["citations"]) == len(answered.citations) >= 1 and second["citations"] == []
    text = SAMPLE.read_text(encoding="utf-8")
    digest = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    for cited in first["citations"]:
        assert cited["doc_id"] == "treaty_sample" and cited["sha256"] == digest and cited["uploaded"] is False
        assert text[cited["start"] : cited["end"]] == cited["quote"]  # offsets into the very file whose SHA-256 is logged
    assert "seventy-three years" in " ".join(c["quote"] for c in first["citations"])


def test_the_log_can_be_turned_off(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "index", answer_log=False)
    assistant = Assistant(settings, embedder=embedder)
    assistant.ingest([SAMPLE])
    assistant.ask("For how many years shall each Contracting Party protect sample works?")
    assert not settings.answer_log_path.exists() and answerlog.read(settings) == []


def test_ask_json_prints_the_logged_record(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "index")
    Assistant(settings, embedder=embedder).ingest([SAMPLE])
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    question = "What exceptions may Contracting Parties provide for reading rooms?"
    out = subprocess.run(
        [sys.executable, "-m", "ipqa", "--data-dir", str(settings.data_dir), "ask", "--json", question],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    (logged,) = answerlog.read(settings)
    assert printed == logged
    assert printed["kind"] == "answered" and printed["citations"][0]["section"].startswith("Article 2")
