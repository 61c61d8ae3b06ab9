"""The bundled model without torch: exported once to ONNX, run with onnxruntime + tokenizers.

sentence-transformers' own ONNX backend needs optimum, which would downgrade transformers here
(benchmarks/README.md), so the model is exported with torch.onnx from the bundled weights, once,
and cached; afterwards queries and ingest need neither torch nor sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError

# Bump when the exported graph changes (inputs, outputs, opset), so old cached files are not reused.
EXPORT_VERSION = 1
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_file(model_path: str, cache_dir: Path) -> Path:
    """Where the export of this model folder is cached: keyed by the folder and its weights' size and mtime."""
    folder = Path(model_path).resolve()
    weights = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin") or p.name == "config.json")
    key = json.dumps([EXPORT_VERSION, str(folder), [(p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in weights]])
    return cache_dir / f"{folder.parent.name}-{folder.name}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.onnx"


def export(model_path: str, target: Path) -> Path:
    """Export the transformer of a local sentence-transformers folder to `target` (needs torch and onnx; about 15 s)."""
    try:  # checked first: a cache folder that cannot be written fails at once, before seconds of torch import
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.part")
    except OSError as exc:
        raise ConfigError(f"Cannot write the ONNX export of the embedding model to {target.parent} ({exc.strerror}) — "
                          "set IPQA_MODEL_CACHE to a writable folder.") from None
    os.close(fd)
    try:
        _export(model_path, tmp)
        os.replace(tmp, target)  # atomic: a concurrent process sees the old state or the whole file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _export(model_path: str, file: str) -> None:
    try:
        import onnx  # noqa: F401  (torch.onnx needs it to write the file)
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ConfigError(f"Exporting the embedding model to ONNX needs torch and onnx ({exc.name} is missing) — pip install torch onnx, "
                          "or set IPQA_EMBED_BACKEND=torch.") from None

    hf_logging.disable_progress_bar()  # a one-off export, not worth a progress bar in `make install` or the first ask
    # Eager attention: the SDPA path bakes a shape test into the traced graph; eager gives one graph for every length.
    model = AutoModel.from_pretrained(model_path, attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    sample = tuple(torch.ones(2, 16, dtype=torch.long) for _ in INPUTS)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about constant shapes that eager attention does not use
        torch.onnx.export(
            LastHiddenState(), sample, file, input_names=list(INPUTS), output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")},
            opset_version=17, dynamo=False,  # the TorchScript exporter needs no onnxscript
        )


class OnnxEncoder:
    """Tokenize, run the exported transformer, mean-pool over real tokens, normalise: what sentence-transformers does."""

    def __init__(self, model_path: str, cache_dir: Path, max_tokens: int) -> None:
        from tokenizers import Tokenizer

        self.file = onnx_file(model_path, cache_dir)
        if not self.file.exists():
            export(model_path, self.file)
        self.tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        pad = self.tokenizer.token_to_id("[PAD]") or 0
        self.tokenizer.enable_padding(pad_id=pad, pad_token="[PAD]")
        self._sessions: dict[int, Any] = {}

    def session(self, threads: int) -> Any:
        """One onnxruntime session per thread count (fixed when a session is made): 1 for queries, all cores for batches."""
        if threads not in self._sessions:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._sessions[threads] = ort.InferenceSession(str(self.file), options, providers=["CPUExecutionProvider"])
        return self._sessions[threads]

    def encode(self, texts: Sequence[str], *, batch_size: int, threads: int) -> list[list[float]]:
        """Unit vectors for `texts`, in batches of similar length (as sentence-transformers sorts them)."""
        import numpy as np

        session = self.session(threads)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = self.tokenizer.encode_batch([texts[i] for i in idx])
            feeds = {
                "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
            }
            hidden = session.run(None, feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            if out.shape[1] == 0:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[idx] = pooled
        return out.tolist()
