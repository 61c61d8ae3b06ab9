"""Bad inputs (issue #6): each bad file is reported by name, the rest of the batch is ingested, and
nothing already indexed for a file is lost when its new version cannot be read."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, ROOT, shared_doc

from ipqa.api import Assistant
from ipqa.cli import cli
from ipqa.embedding import Embedder
from ipqa.ingest import ingest
from ipqa.settings import Settings
from ipqa.store import Store

BAD = DATA / "bad"
UNICODE_NAME = "notes with spaces ünïcödé 著作権.md"

# Every file of tests/data/bad that must fail, with the exact reason reported for it.
FAILS = {
    "empty.txt": "empty file (no text)",
    "whitespace-only.md": "empty file (no text)",
    "zero-pages.pdf": "PDF has no pages",
    "truncated.pdf": "corrupt or unreadable PDF (",  # then pypdf's own words, which vary by version
    "encrypted.pdf": "encrypted PDF (password required)",
    "scanned-no-text-layer.pdf": "no extractable text (scanned PDF?) — OCR needed",
    "html-named.pdf": "not a PDF (no %PDF header — an HTML page or a failed download saved as .pdf?)",
    "binary-named.txt": "binary file, not text (contains NUL bytes)",
    "random-bytes-no-nul.txt": "not UTF-8 and no other text encoding fits (binary file?)",
    "scripts-only.html": "HTML has no visible text (only scripts, styles or markup)",
}
# Files that load, some with a warning naming the encoding found (cp932 is Shift-JIS, cp1252 Latin-1's superset).
LOADS = {
    "policy-good.pdf": None,
    UNICODE_NAME: None,
    "japanese-shift-jis.txt": r"decoded as (cp932|shift_jis), not UTF-8",
    "french-latin-1.txt": r"decoded as (cp1252|latin_1|iso8859_1[5]?), not UTF-8",
    "utf-16-with-bom.txt": r"decoded as UTF-16, not UTF-8",
}
SKIPS = {"slides.pptx": "unsupported file type '.pptx'"}
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2  # <linux/prctl.h>, <linux/capability.h>


def _snapshot(settings: Settings) -> dict[str, tuple[str, list[str], set[str]]]:
    """doc id -> (file hash, passage ids in order, vector ids) for every indexed document."""
    store = Store(settings)
    vectors = store.vector_ids()
    out = {}
    for record in store.docs():
        ids = [p.passage_id for p in store.doc_passages(record.doc_id)]
        out[record.doc_id] = (record.sha256, ids, {v for v in vectors if v in set(ids)})
    assert set().union(*(set(v[1]) for v in out.values())) == vectors, "orphan vectors"
    return out


def _write_big(path: Path, mb: int) -> None:
    line = b"Article 1. Each Party shall protect the rights of authors in their literary and artistic works.\n"
    with open(path, "wb") as handle:
        block = line * ((1 << 20) // len(line) + 1)
        for _ in range(mb):
            handle.write(block[: 1 << 20])


def test_fixture_set_is_complete() -> None:
    names = {p.name for p in BAD.iterdir() if not p.name.lower().startswith("readme")}
    assert names == set(FAILS) | set(LOADS) | set(SKIPS)
    # With the generated ones (oversized file, symlink loops, unreadable file, 1,000 files): 20 cases.
    assert len(FAILS) + len(LOADS) + len(SKIPS) + 5 >= 15


def test_bad_batch_reports_each_file_and_ingests_the_rest(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    folder = tmp_path / "batch"
    shutil.copytree(BAD, folder, ignore=shutil.ignore_patterns("README*"))
    settings = settings.model_copy(update={"max_file_mb": 2})  # the size check, without writing 50 MB in the fast tests
    _write_big(folder / "huge-3mb.txt", 3)
    (folder / "loop-a.txt").symlink_to("loop-b.txt")
    (folder / "loop-b.txt").symlink_to("loop-a.txt")
    (folder / "sub").mkdir()
    (folder / "sub" / "back-up").symlink_to("..", target_is_directory=True)  # a folder loop
    (folder / "sub" / "kept.md").write_text("# Kept\n\nA file below a folder that links back to its parent is ingested once.\n")
    commentary = shared_doc("wipo-japan-ai-ip-2026-commentary.txt")

    started = time.perf_counter()
    report = Assistant(settings, embedder=embedder).ingest([folder, commentary])
    elapsed = time.perf_counter() - started

    failed = {Path(p).name: reason for p, reason in report.failed}
    expected = dict(FAILS)
    expected["huge-3mb.txt"] = "file is 3.0 MB, over the 2 MB limit (IPQA_MAX_FILE_MB)"
    expected["loop-a.txt"] = expected["loop-b.txt"] = "cannot read file (Too many levels of symbolic links)"
    assert set(failed) == set(expected)
    assert all(failed[name].startswith(reason) if reason.endswith("(") else failed[name] == reason for name, reason in expected.items()), failed
    assert all(Path(p).parent == folder for p, _ in report.failed), "each message names the file"
    assert {Path(p).name: r for p, r in report.skipped} == SKIPS | {"back-up": "symbolic link to a folder, not followed"}
    warnings = {Path(p).name: w for p, w in report.warnings}
    assert set(warnings) == {name for name, w in LOADS.items() if w}
    assert all(re.fullmatch(LOADS[name], w) for name, w in warnings.items()), warnings
    assert sorted(report.added) == sorted(
        ["policy-good", "notes-with-spaces-ünïcödé-著作権", "japanese-shift-jis", "french-latin-1", "utf-16-with-bom", "kept",
         "wipo-japan-ai-ip-2026-commentary"]
    ), "the rest of the batch is ingested, the looped folder once"
    print(f"\nbad batch: {len(report.failed)} failed, {len(report.skipped)} skipped, {len(report.added)} added in {elapsed:.1f}s")

    snap = _snapshot(settings)
    assert set(snap) == set(report.added), "nothing is indexed for a failed file"
    store = Store(settings)
    japanese = " ".join(p.text for p in store.doc_passages("japanese-shift-jis"))
    assert "著作権法第三十条の四" in japanese and "\ufffd" not in japanese
    assert "fouille de textes et de données" in " ".join(p.text for p in store.doc_passages("french-latin-1"))
    unicode_doc = store.doc("notes-with-spaces-ünïcödé-著作権")
    assert unicode_doc is not None and Path(unicode_doc.path).name == UNICODE_NAME
    result = Assistant(settings, embedder=embedder).ask("Who has the right to claim authorship and object to distortion?")
    assert result.answered and result.citations[0].file == str((folder / UNICODE_NAME).resolve())


def test_cli_names_each_failed_file(tmp_path: Path) -> None:
    folder = tmp_path / "only-bad"
    folder.mkdir()
    for name in ("encrypted.pdf", "scanned-no-text-layer.pdf", "binary-named.txt"):
        shutil.copy(BAD / name, folder)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "index"), "ingest", str(folder)])
    assert result.exit_code == 1
    assert result.output.splitlines()[:3] == [
        f"failed: {folder / 'binary-named.txt'}: binary file, not text (contains NUL bytes)",
        f"failed: {folder / 'encrypted.pdf'}: encrypted PDF (password required)",
        f"failed: {folder / 'scanned-no-text-layer.pdf'}: no extractable text (scanned PDF?) — OCR needed",
    ]
    assert result.output.splitlines()[-1].startswith("0 added, 0 changed, 0 unchanged, 0 removed, 3 failed")


def test_oversized_file_fails_fast(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    big = tmp_path / "huge.txt"
    _write_big(big, 3)
    settings = settings.model_copy(update={"max_file_mb": 2})
    calls = embedder.calls
    report = ingest([big], settings, embedder=embedder)
    assert report.failed == [(str(big), "file is 3.0 MB, over the 2 MB limit (IPQA_MAX_FILE_MB)")]
    assert embedder.calls == calls, "never read, parsed or embedded"


def test_failed_reingest_keeps_the_good_version(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    settings = settings.model_copy(update={"max_file_mb": 2})  # the size check without writing 21 MB
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(BAD / "policy-good.pdf", folder / "policy.pdf")
    (folder / "notes.txt").write_text("Deposit rules\n\nTheses are deposited in the repository within three months of the award.\n")
    (folder / "page.html").write_text("<html><body><h1>Open access</h1><p>Articles are made open access on publication under CC BY.</p></body></html>")
    (folder / "terms.md").write_text("# Terms\n\nThe licence may be revoked only for a breach of these terms of use.\n")
    (folder / "extra.md").write_text("# Extra\n\nData sets are cited like publications, with a persistent identifier.\n")
    assistant = Assistant(settings, embedder=embedder)
    first = assistant.ingest([folder])
    assert sorted(first.added) == ["extra", "notes", "page", "policy", "terms"]
    before = _snapshot(settings)

    # Every file now breaks in a different way; the folder is ingested again (pruning on).
    shutil.copy(BAD / "truncated.pdf", folder / "policy.pdf")
    shutil.copy(BAD / "binary-named.txt", folder / "notes.txt")
    shutil.copy(BAD / "scripts-only.html", folder / "page.html")
    _write_big(folder / "terms.md", 3)
    (folder / "extra.md").unlink()
    (folder / "extra.md").symlink_to("extra.md")
    again = assistant.ingest([folder])

    failed = {Path(p).name: r for p, r in again.failed}
    assert failed.pop("policy.pdf").startswith(FAILS["truncated.pdf"])
    assert failed == {
        "notes.txt": FAILS["binary-named.txt"],
        "page.html": FAILS["scripts-only.html"],
        "terms.md": "file is 3.0 MB, over the 2 MB limit (IPQA_MAX_FILE_MB)",
        "extra.md": "cannot read file (Too many levels of symbolic links)",
    }
    assert again.added == again.changed == again.removed == []
    assert _snapshot(settings) == before, "the good versions survive, passages and vectors alike"
    result = assistant.ask("When must patentable inventions be disclosed to the technology transfer office?")
    assert result.answered and result.citations[0].doc_id == "policy" and "sixty days" in result.citations[0].quote


def _without_dac_override() -> None:
    """In a child about to exec as root: drop the capabilities that let root ignore file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def test_unreadable_file(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    """A file the ingest may not open: reported by name, the rest of the folder kept, its old version kept.

    Root reads any file whatever its mode (CAP_DAC_OVERRIDE), so as root the second ingest is a
    real `ipqa ingest` subprocess started without those capabilities: file modes apply to it."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "kept.md").write_text("# Kept\n\nMinutes of the copyright committee are public.\n")
    (folder / "locked.md").write_text("# Locked\n\nThe committee meets every second Tuesday.\n")
    assistant = Assistant(settings, embedder=embedder)
    assistant.ingest([folder])
    before = _snapshot(settings)
    (folder / "secret.txt").write_text("Salaries of the committee members.\n")
    for name in ("secret.txt", "locked.md"):
        (folder / name).chmod(0o000)
    expected = [(str(folder / "locked.md"), "permission denied"), (str(folder / "secret.txt"), "permission denied")]
    if os.geteuid() == 0:
        if not sys.platform.startswith("linux"):
            pytest.skip("running as root where capabilities cannot be dropped: root reads every file")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "IPQA_DATA_DIR": str(settings.data_dir)}
        out = subprocess.run(
            [str(Path(sys.executable).parent / "ipqa"), "ingest", str(folder)], cwd=ROOT, env=env, capture_output=True, text=True,
            preexec_fn=_without_dac_override, timeout=300,
        )
        assert out.returncode == 0, out.stderr
        assert [line for line in out.stderr.splitlines() if line.startswith("failed: ")] == [f"failed: {p}: {r}" for p, r in expected]
        assert out.stdout.splitlines()[-1].startswith("0 added, 0 changed, 1 unchanged, 0 removed, 2 failed")
    else:
        report = assistant.ingest([folder])
        assert sorted(report.failed) == expected and report.unchanged == ["kept"]
    after = _snapshot(settings)
    assert set(after) == {"kept", "locked"}, "not pruned: the file is still there"
    assert after["locked"] == before["locked"] and after["kept"] == before["kept"], "an unreadable file keeps its indexed version"


def test_a_thousand_tiny_files(tmp_path: Path, settings: Settings, fake_embedder: Embedder) -> None:
    # Bookkeeping at scale, not answer quality: the hashing embedder (the real model would embed 1,000 notes).
    embedder = fake_embedder
    folder = tmp_path / "notes"
    for i in range(1000):
        sub = folder / f"batch-{i // 100}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"note-{i:04d}.txt").write_text(f"Licence {i} covers work {i * 7}.\n")
    assistant = Assistant(settings, embedder=embedder)
    started = time.perf_counter()
    report = assistant.ingest([folder])
    first = time.perf_counter() - started
    assert len(report.added) == 1000 and not report.failed and not report.skipped
    started = time.perf_counter()
    again = assistant.ingest([folder])
    second = time.perf_counter() - started
    assert len(again.unchanged) == 1000 and again.embedded == 0
    snap = _snapshot(settings)
    assert len(snap) == 1000 and sum(len(v[1]) for v in snap.values()) == 1000
    hits = assistant.ask("What does licence 617 cover?").hits  # found among 1,000 (answering is the real model's job)
    assert hits[0].passage.doc_id == "note-0617"
    print(f"\n1,000 files: first ingest {first:.1f}s ({report.timings}), unchanged re-ingest {second:.1f}s")
