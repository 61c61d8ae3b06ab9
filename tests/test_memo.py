"""Memos (issue #16): exported answers that re-verify against the cited files, and flag a quote once the file changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA
from test_cli import run

from ipqa.api import Assistant
from ipqa.embedding import Embedder
from ipqa.memo import EDITED, MISSING, MOVED, NO_FILE, VERBATIM, MemoError, read_memo, verify_memo, write_memo
from ipqa.settings import Settings

QUESTION = "What exceptions may Contracting Parties provide for reading rooms?"


@pytest.fixture
def sample(tmp_path: Path, embedder: Embedder) -> tuple[Assistant, Path]:
    """A one-document index over a copy of the sample treaty that the test may edit."""
    doc = tmp_path / "docs" / "treaty_sample.md"
    doc.parent.mkdir()
    shutil.copyfile(DATA / "treaty_sample.md", doc)
    assistant = Assistant(Settings(data_dir=tmp_path / "index"), embedder=embedder)
    assert assistant.ingest([doc]).added == ["treaty_sample"]
    return assistant, doc


@pytest.mark.parametrize("name", ["memo.md", "memo.html"])
def test_memo_round_trips_then_flags_an_edited_file(sample: tuple[Assistant, Path], tmp_path: Path, name: str) -> None:
    assistant, doc = sample
    answer = assistant.ask(QUESTION)
    assert answer.answered and answer.citations
    record = assistant.memo(answer)
    memo = write_memo(record, tmp_path / name)
    text = memo.read_text(encoding="utf-8")
    sha = assistant.sources()[0].sha256
    for c in answer.citations:  # everything a reader needs to re-check the quote by hand is shown
        for shown in (c.title, c.section, f"{c.doc_start}–{c.doc_end}", sha, str(doc.resolve())):
            assert shown in text
    assert record["index_fingerprint"] in text and record["created"] in text
    assert read_memo(memo) == (json.loads(json.dumps(record)), [" ".join(c.quote.split()) for c in answer.citations])

    checks = verify_memo(memo)
    assert [(c.n, c.status) for c in checks] == [(c.n, VERBATIM) for c in answer.citations]

    # Text added above the quote: still verbatim, elsewhere; the changed file is noted.
    doc.write_text("Preface.\n\n" + doc.read_text(encoding="utf-8"), encoding="utf-8")
    moved = verify_memo(memo)
    assert {c.status for c in moved} == {MOVED} and all(c.passed and "SHA-256 differs" in c.detail for c in moved)

    # The quoted words changed: flagged.
    quote = answer.citations[0].quote
    doc.write_text(doc.read_text(encoding="utf-8").replace(quote, quote.replace("exceptions", "exemptions")), encoding="utf-8")
    flagged = verify_memo(memo)
    assert flagged[0].status == MISSING and not flagged[0].passed

    doc.unlink()
    assert {c.status for c in verify_memo(memo)} == {NO_FILE}


def test_a_memo_edited_by_hand_is_flagged(sample: tuple[Assistant, Path], tmp_path: Path) -> None:
    assistant, _ = sample
    answer = assistant.ask(QUESTION)
    memo = write_memo(assistant.memo(answer), tmp_path / "memo.md")
    quote = " ".join(answer.citations[0].quote.split())
    memo.write_text(memo.read_text(encoding="utf-8").replace(f"> {quote}", "> Contracting Parties may do as they please."), encoding="utf-8")
    assert verify_memo(memo)[0].status == EDITED


def test_a_comparison_memo_lists_each_group(sample: tuple[Assistant, Path], tmp_path: Path) -> None:
    assistant, _ = sample
    comparison = assistant.compare(QUESTION)
    memo = write_memo(assistant.memo(comparison), tmp_path / "compare.md")
    text = memo.read_text(encoding="utf-8")
    for g in comparison.groups:
        assert f"## {g.label}\n\n{g.text}\n" in text
    assert [c.status for c in verify_memo(memo)] == [VERBATIM] * sum(len(g.answer.citations) for g in comparison.groups)


def test_not_a_memo(tmp_path: Path) -> None:
    plain = tmp_path / "notes.md"
    plain.write_text("# Notes\n", encoding="utf-8")
    with pytest.raises(MemoError, match="no ipqa memo record in this file — write one with `ipqa ask --memo FILE`"):
        verify_memo(plain)
    damaged = tmp_path / "damaged.md"
    damaged.write_text("# Q\n<!-- ipqa-memo-record\n{\"ipqa_memo\": 1,\n-->\n", encoding="utf-8")
    with pytest.raises(MemoError, match="the memo record is damaged"):
        verify_memo(damaged)


@pytest.mark.slow  # several CLI runs, each loading the model
def test_cli_memo_and_verify_memo(sample: tuple[Assistant, Path], tmp_path: Path) -> None:
    assistant, doc = sample
    data_dir = assistant.settings.data_dir
    memo = tmp_path / "answer.html"
    out = run("ask", QUESTION, "--memo", str(memo), data_dir=data_dir)
    assert out.returncode == 0, out.stderr
    assert f"memo: {memo} (check it later with `ipqa verify-memo {memo}`)" in out.stderr
    out = run("verify-memo", str(memo), data_dir=data_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[0].startswith("[1] verbatim treaty_sample — Article 2")
    k = len(out.stdout.splitlines()) - 1
    assert out.stdout.splitlines()[-1] == f"{k} quote{'s' * (k != 1)}: {k} still verbatim, 0 not"
    doc.write_text("# Sample Treaty\n\nNothing here any more.\n", encoding="utf-8")
    out = run("verify-memo", str(memo), data_dir=data_dir)
    assert out.returncode == 1
    assert "[1] missing  treaty_sample — Article 2" in out.stdout
    out = run("verify-memo", str(tmp_path / "nope.md"), data_dir=data_dir)
    assert out.returncode == 1 and out.stderr.startswith(f"Error: {tmp_path / 'nope.md'}: cannot read the memo")
