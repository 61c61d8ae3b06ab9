"""The embedder backends: ONNX gives torch's vectors; asking a question imports neither torch nor gradio."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, shared_doc

from ipqa.api import Assistant
from ipqa.chunking import chunk
from ipqa.embedding import Embedder
from ipqa.loaders import load
from ipqa.settings import Settings

HEAVY = ("torch", "gradio", "sentence_transformers", "transformers", "llama_index")


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


@pytest.fixture(scope="module")
def onnx() -> Embedder:
    embedder = Embedder(Settings(embed_backend="onnx"))
    assert embedder.backend == "onnx"
    return embedder


def test_bundled_model_runs_on_onnx_by_default() -> None:
    assert Embedder(Settings()).backend == "onnx"
    assert Embedder(Settings(embed_model="/some/other/model")).backend == "torch"


@pytest.mark.slow  # loads torch and sentence-transformers
def test_onnx_vectors_match_sentence_transformers(onnx: Embedder) -> None:
    torch_embedder = Embedder(Settings(embed_backend="torch"))
    doc = load(shared_doc("wipo-phonograms-convention-1971.md"))
    texts = [p.text for p in chunk(doc, "phonograms", onnx.count_tokens, 200, 32)]
    texts.append("reproduction right " * 300)  # longer than the model window: both must cut it at 256 word pieces
    assert len(texts) > 10
    for a, b in zip(onnx.embed(texts), torch_embedder.embed(texts), strict=True):
        assert cosine(a, b) >= 0.9999
    for query in ("What is a phonogram?", "著作権の保護期間は何年ですか"):
        assert cosine(onnx.embed_query(query), torch_embedder.embed_query(query)) >= 0.9999


def test_onnx_vectors_are_unit_and_follow_meaning(onnx: Embedder) -> None:
    a, b, c = onnx.embed(["The term of protection is fifty years.", "Protection lasts for 50 years.", "Reading rooms in libraries."])
    assert abs(cosine(a, a) - 1) < 1e-6 and abs(sum(x * x for x in a) - 1) < 1e-4
    assert cosine(a, b) > cosine(a, c)
    assert onnx.embed(["Reading rooms in libraries."])[0] == pytest.approx(c, abs=1e-5)  # batch position does not matter


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory, onnx: Embedder) -> Path:
    data_dir = tmp_path_factory.mktemp("lazy") / "index"
    report = Assistant(Settings(data_dir=data_dir), embedder=onnx).ingest([DATA / "treaty_sample.md"])
    assert report.added == ["treaty_sample"]
    return data_dir


@pytest.mark.parametrize("args", [["ask", "What exceptions may Contracting Parties provide?"], ["sources"], ["doctor"]])
def test_everyday_commands_import_neither_torch_nor_gradio(sample_index: Path, args: list[str]) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "ipqa", "--data-dir", str(sample_index), *args],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode in (0, 1), out.stderr[-2000:]
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "ipqa" in imported and not imported & set(HEAVY), sorted(imported & set(HEAVY))
    if args[0] == "ask":
        assert "Article 2" in out.stdout


def test_hash_embedder_is_deterministic_and_content_dependent(fake_embedder: Embedder) -> None:
    from conftest import HashEmbedder

    texts = ["Licence 617 covers work 4319.", "Licence 618 covers work 4326.", "Reading rooms in libraries."]
    vectors = fake_embedder.embed(texts)
    assert vectors == HashEmbedder(Settings()).embed(texts), "the same vectors in every process"
    query = fake_embedder.embed_query("What does licence 617 cover?")
    ranked = sorted(range(3), key=lambda i: -cosine(query, vectors[i]))
    assert ranked[0] == 0 and ranked[-1] == 2
    assert fake_embedder.count_tokens("reproduction") == Embedder(Settings()).count_tokens("reproduction")


def test_unwritable_model_cache_is_one_clear_error() -> None:
    from ipqa.errors import ConfigError

    embedder = Embedder(Settings(embed_backend="onnx", model_cache=Path("/proc/ipqa-model-cache")))  # not creatable, even as root
    with pytest.raises(ConfigError, match=r"^Cannot write the ONNX export .* to /proc/ipqa-model-cache .* set IPQA_MODEL_CACHE to a writable folder\.$"):
        embedder.embed_query("What is a phonogram?")
