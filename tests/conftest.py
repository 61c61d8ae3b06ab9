"""Shared fixtures: real bundled model, real Chroma in temp dirs, real documents from ../shared/corpus."""

from __future__ import annotations

import hashlib
import math
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ipqa.api import Assistant  # noqa: E402
from ipqa.embedding import Embedder  # noqa: E402
from ipqa.glossary import question_language  # noqa: E402
from ipqa.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"
DATA = Path(__file__).parent / "data"

# The four documents the core tests ask about (about 2,300 passages: embedded once per run).
CORE_DOCS = [
    "eu-ai-act-2024-1689.html",
    "wipo-berne-convention.md",
    "us-17usc-title17-copyright.md",
    "us-ndcal-bartz-v-anthropic-2025-fair-use-order.pdf",
]


def shared_doc(name: str) -> Path:
    """A document of ../shared/corpus (tests fail loudly if the shared corpus is missing)."""
    path = SHARED / name
    assert path.exists(), f"{path} missing — tests need ../shared/corpus beside the repository"
    return path


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled all-MiniLM-L6-v2, loaded once."""
    return Embedder(Settings())


class HashEmbedder(Embedder):
    """A deterministic, content-dependent embedder for fast unit tests: hashed word and word-pair counts, normalised.

    Texts that share words get close vectors, so ranking still means something (unlike LlamaIndex's MockEmbedding);
    word pieces are still counted by the bundled tokenizer, so chunks are cut exactly as with the real model.
    Tests of answer quality use the real model (the `embedder` fixture).
    """

    DIM = 384

    def embed(self, texts: Sequence[str], *, query_time: bool = False) -> list[list[float]]:
        """Vectors for passages or a question's sentences (counted like the real embedder's calls)."""
        if not texts:
            return []
        self.calls += 1
        self.texts_embedded += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        """Vector of one query."""
        self.calls += 1
        return self._vector(text)

    def _vector(self, text: str) -> list[float]:
        # Japanese and Chinese have no spaces: a run of ideographs or kana (a word glossary.question_language does not
        # call English) is read by its character pairs, as BM25 reads it, so that two texts sharing words get close
        # vectors in those languages too.
        words = [
            piece
            for w in re.findall(r"\w+", text.lower())
            for piece in ([w[i : i + 2] for i in range(max(1, len(w) - 1))] if question_language(w) != "en" else [w])
        ]
        vec = [0.0] * self.DIM
        for feature in [*words, *(f"{a} {b}" for a, b in zip(words, words[1:]))]:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            vec[int.from_bytes(digest[:4], "little") % self.DIM] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vec))
        return [x / norm for x in vec] if norm else [1.0] + [0.0] * (self.DIM - 1)


@pytest.fixture(scope="session")
def fake_embedder() -> HashEmbedder:
    """The deterministic hashing embedder (no model, no onnxruntime): for tests of bookkeeping, not of answer quality."""
    return HashEmbedder(Settings())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose index lives in this test's temp dir."""
    return Settings(data_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def core(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    """An index of the AI Act (HTML), Berne, Title 17 and the Bartz PDF; shared, read-only."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("core") / "index")
    assistant = Assistant(settings, embedder=embedder)
    report = assistant.ingest([shared_doc(n) for n in CORE_DOCS])
    assert not report.failed, report.failed
    return assistant


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    """A small index (WCT, phonograms convention, the commentary): fast, shared, read-only."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("small") / "index")
    assistant = Assistant(settings, embedder=embedder)
    names = ["wipo-copyright-treaty-wct-1996.md", "wipo-phonograms-convention-1971.md", "wipo-japan-ai-ip-2026-commentary.txt"]
    report = assistant.ingest([shared_doc(n) for n in names])
    assert not report.failed, report.failed
    return assistant


def catalogued_index(root: Path, files: dict[str, str], catalog: str) -> Assistant:
    """A small index of `files` (name -> text) under `root`, catalogued by `catalog` (TOML), with the hashing embedder."""
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (root / "catalog.toml").write_text(catalog, encoding="utf-8")
    settings = Settings(data_dir=root / "index", catalog=root / "catalog.toml", answer_log=False, min_score=0.0)
    assistant = Assistant(settings, embedder=HashEmbedder(settings))
    report = assistant.ingest([corpus])
    assert not report.failed, report.failed
    return assistant


@pytest.fixture(scope="session")
def everything(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    """All documents of ../shared/corpus (a full ingest: minutes; slow tests only); shared, read-only."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("all") / "index", answer_log=False)
    assistant = Assistant(settings, embedder=embedder)
    report = assistant.ingest([SHARED])
    assert not report.failed, report.failed
    return assistant


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:  # type: ignore[type-arg]
    """Terminate a server the test started; kill it if it does not exit in time."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
