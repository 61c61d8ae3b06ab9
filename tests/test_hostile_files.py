"""Hostile and pathological files (issue #14 items 1 and 5): one file's failure is that file's alone; only
regular files inside the ingested folder are read, once; names cannot forge report lines."""

from __future__ import annotations

import hashlib
import math
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from ipqa.embedding import Embedder
from ipqa.ingest import ingest
from ipqa.loaders import load
from ipqa.settings import Settings
from ipqa.store import Store

IPQA = [sys.executable, "-m", "ipqa"]
GOOD = "# Good notes\n\nThe lending of phonograms by public libraries is an exception to the distribution right.\n"


class WordEmbedder(Embedder):
    """Deterministic and cheap: a word is a token, a vector is a hashed bag of words (content-dependent)."""

    DIM = 64

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    def embed(self, texts: Sequence[str], *, query_time: bool = False) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        vec = [0.0] * self.DIM
        for word in re.findall(r"\w+", text.lower()):
            vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.DIM] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]


class ExhaustedEmbedder(WordEmbedder):
    """Runs out of memory on one document's text, as a parser or tokenizer may on a pathological file."""

    def count_tokens(self, text: str) -> int:
        if "EXHAUSTING" in text:
            raise MemoryError("cannot allocate")
        return super().count_tokens(text)


class RewritingEmbedder(WordEmbedder):
    """While the first file is chunked, another process rewrites the second one (after it was hashed)."""

    def __init__(self, settings: Settings, victim: Path, content: str) -> None:
        super().__init__(settings)
        self.victim, self.content, self.done = victim, content, False

    def count_tokens(self, text: str) -> int:
        if not self.done:
            self.done = True
            self.victim.write_text(self.content)
        return super().count_tokens(text)


def nested_divs(depth: int) -> str:
    return "<html><body>" + "<div>" * depth + "Deeply nested text survives." + "</div>" * depth + "</body></html>"


def unclosed_fonts(count: int) -> str:
    return "<html><body><p>" + "".join(f"<font size=2>word{i} " for i in range(count)) + "</p></body></html>"


def test_deeply_nested_html_loads(tmp_path: Path) -> None:
    (tmp_path / "nested.html").write_text(nested_divs(1000))
    (tmp_path / "fonts.html").write_text(unclosed_fonts(1200))
    assert load(tmp_path / "nested.html").text == "Deeply nested text survives."
    text = load(tmp_path / "fonts.html").text
    assert text.startswith("word0 word1 ") and text.endswith("word1199")


def test_any_failure_of_one_file_is_reported_by_name_and_the_batch_goes_on(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a-nested.html").write_text(nested_divs(1000))
    (folder / "b-exhausting.md").write_text("# Heavy\n\nEXHAUSTING text that a parser cannot hold in memory.\n")
    (folder / "c-good.md").write_text(GOOD)
    report = ingest([folder], settings, embedder=ExhaustedEmbedder(settings))
    assert sorted(report.added) == ["a-nested", "c-good"]
    assert report.failed == [(str(folder / "b-exhausting.md"), "cannot be processed (MemoryError: cannot allocate)")]


def test_fifo_device_and_socket_are_skipped_not_read(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    os.mkfifo(folder / "pipe.md")  # reading it would block for ever
    (folder / "good.md").write_text(GOOD)
    report = ingest([folder], settings, embedder=WordEmbedder(settings))
    assert report.added == ["good"] and not report.failed
    assert report.skipped == [(str(folder / "pipe.md"), "not a regular file (FIFO)")]
    # Named on the command line, a FIFO is still not opened.
    report = ingest([folder / "pipe.md"], settings, embedder=WordEmbedder(settings), prune=False)
    assert report.skipped == [(str(folder / "pipe.md"), "not a regular file (FIFO)")]


def test_links_out_of_the_folder_are_skipped_unless_allowed_and_pruned(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nThe salary of every employee is listed in this private file.\n")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text(GOOD)
    (folder / "inside-link.md").symlink_to(folder / "good.md")
    (folder / "secret.md").symlink_to(outside / "secret.md")
    (folder / "null.txt").symlink_to("/dev/null")
    (folder / "outside-dir").symlink_to(outside, target_is_directory=True)
    folder_link = (str(folder / "outside-dir"), "symbolic link to a folder, not followed")

    allowed = Settings(data_dir=tmp_path / "index", follow_outside_links=True)
    report = ingest([folder], allowed, embedder=WordEmbedder(allowed))
    assert sorted(report.added) == ["good", "inside-link", "secret"]
    assert report.skipped == [folder_link, (str(folder / "null.txt"), "not a regular file (device)")]

    strict = Settings(data_dir=tmp_path / "index")
    report = ingest([folder], strict, embedder=WordEmbedder(strict))
    outside_link = "symbolic link to a file outside the ingested folder (set IPQA_FOLLOW_OUTSIDE_LINKS=true to allow)"
    assert report.skipped == [folder_link, (str(folder / "null.txt"), outside_link), (str(folder / "secret.md"), outside_link)]
    assert report.removed == ["secret"], "a link now left out is pruned like a deleted file"
    assert sorted(r.doc_id for r in Store(strict).docs()) == ["good", "inside-link"]


def test_nul_bytes_anywhere_make_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "late-nul.txt"
    path.write_bytes(b"Ordinary text of a notice.\n" * 2000 + b"\x00\x01\x02binary tail")
    with pytest.raises(Exception, match="binary file, not text"):
        load(path)


def test_readme_files_are_listed_as_skipped(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("# About this folder\n")
    (tmp_path / "docs" / "good.md").write_text(GOOD)
    report = ingest([tmp_path / "docs"], settings, embedder=WordEmbedder(settings))
    assert report.skipped == [(str(tmp_path / "docs" / "README.md"), "README-like file, not ingested (rename it to ingest it)")]


def test_the_bytes_hashed_are_the_bytes_parsed(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(GOOD)
    original = "# Term\n\nThe term of protection is fifty years from the end of the year of publication.\n"
    forged = "# Term\n\nThe term of protection is unlimited and lasts for ever, whatever the treaty says.\n"
    (folder / "b.md").write_text(original)
    ingest([folder], settings, embedder=RewritingEmbedder(settings, folder / "b.md", forged))
    stored = Store(settings)
    record = stored.doc("b")
    assert record is not None and record.sha256 == hashlib.sha256(forged.encode()).hexdigest()
    # Restored: the index notices, because it recorded the hash of what it parsed.
    (folder / "b.md").write_text(original)
    report = ingest([folder], settings, embedder=WordEmbedder(settings))
    assert report.changed == ["b"]
    assert "fifty years" in " ".join(p.text for p in Store(settings).doc_passages("b"))


def test_file_names_cannot_forge_report_lines(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    os.mkfifo(folder / "pipe\nadded: wipo-berne-convention.md")
    (folder / "slides\x1b[2K\nadded: wto-trips-agreement.pptx").write_bytes(b"PK")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([*IPQA, "--data-dir", str(tmp_path / "index"), "ingest", str(folder)], capture_output=True, text=True, env=env, timeout=300)
    lines = (out.stdout + out.stderr).splitlines()
    assert not [line for line in lines if line.startswith("added:")], lines
    assert f"skipped: {folder}/pipe\\nadded: wipo-berne-convention.md: not a regular file (FIFO)" in lines
    assert f"skipped: {folder}/slides\\x1b[2K\\nadded: wto-trips-agreement.pptx: unsupported file type '.pptx'" in lines
