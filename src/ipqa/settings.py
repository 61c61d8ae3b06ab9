"""The one Settings object: built once at the entry point, passed down."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Configuration from `IPQA_*` environment variables or `ipqa.toml`."""

    model_config = SettingsConfigDict(env_prefix="IPQA_", toml_file="ipqa.toml", extra="ignore")

    data_dir: Path = Field(Path(".ipqa"), description="Where the index and its bookkeeping live.")
    corpus_dir: Path = Field(Path("corpus"), description="Folder `make run` ingests.")
    catalog: Path | None = Field(
        None,
        description="Your own catalog (TOML, same format as the built-in one) layered over the catalog that ships with ipqa: "
        "an entry with the id of a built-in one replaces it.",
    )
    embed_model: str = Field(
        DEFAULT_MODEL,
        description="sentence-transformers model: `bundled:all-MiniLM-L6-v2` or a local path/name.",
    )
    embed_backend: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="`onnx` (onnxruntime, no torch: the bundled model exported once), `torch` (sentence-transformers) or "
        "`auto` (ONNX for the bundled model, sentence-transformers for any other). Same vectors either way.",
    )
    model_cache: Path = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ipqa",
        description="Where the ONNX export of the bundled model is kept (made once, about 90 MB).",
    )
    embed_batch_size: int = Field(32, description="Passages per embedding batch.")
    embed_device: str = Field("cpu", description="Torch device for the embedder.")
    ingest_threads: int = Field(0, description="Torch CPU threads while embedding passages in batches (0 = one per core).")
    embed_threads: int = Field(
        1, description="Torch CPU threads for query embedding (0 = one per core). One is faster on a busy 2-core machine: see benchmarks/README.md."
    )
    chunk_tokens: int = Field(200, description="Max word pieces of passage text (model window 256).")
    chunk_overlap: int = Field(32, description="Word pieces carried over between size-split chunks.")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server; embedded store if unset.")
    top_k: int = Field(10, description="Passages retrieved per question (10: the answer's sentences are chosen among them; 6 missed a gold passage for 11% more train questions).")
    min_score: float = Field(
        0.35, description="Dense similarity below which ipqa abstains outright; above it the answerability model (fitted on eval/train.jsonl) decides."
    )
    max_citations: int = Field(3, description="Most sentences quoted in an extractive answer.")
    max_file_mb: int = Field(20, description="Largest file accepted by ingest or upload, in MB.")
    max_question_chars: int = Field(2000, description="Longest question accepted, in characters (longer ones are refused with a message).")
    answer_seconds: float = Field(
        10.0, description="Time budget for composing one extractive answer: passages are scored best first until it is spent."
    )
    follow_outside_links: bool = Field(
        False, description="Ingest symbolic links that point outside the ingested folder (off: they are skipped with a message)."
    )
    host: str = Field("127.0.0.1", description="Interface `ipqa serve` binds.")
    port: int = Field(7860, description="Port `ipqa serve` binds.")
    auth: str | None = Field(None, description="`user:password` required by the web UI (an admin).")
    auth_file: Path | None = Field(
        None, description="Users of the web UI, one `name:role:hash` a line (role admin or reader; hash from `ipqa hash-password`)."
    )
    debug: bool = Field(False, description="Show tracebacks.")
    answer_log: bool = Field(
        True, description="Append every answer (question, engine, kind, cited passages with document SHA-256, offsets and quotes) to <data_dir>/answers.jsonl."
    )
    llm: Literal["extractive", "openai"] = Field(
        "extractive",
        description="Answer engine: `extractive` (verbatim quotes, offline) or `openai` (any OpenAI-compatible server: "
        "Ollama, vLLM, llama.cpp server, OpenAI); the extractive answer is the fallback when the LLM fails.",
    )
    llm_url: str | None = Field(None, description="Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1.")
    llm_model: str = Field("local-model", description="Model name sent to the LLM server.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM server (none needed for local servers).")
    llm_timeout: float = Field(
        60.0, description="Seconds to wait for the LLM server (to connect, and between streamed tokens) before falling back."
    )
    llm_max_tokens: int = Field(700, description="Most tokens the LLM may write per answer.")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):  # type: ignore[no-untyped-def]
        from pydantic_settings import TomlConfigSettingsSource

        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def index_name(self) -> str:
        """Collection name encoding model and chunking, so old and new vectors never mix."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.embed_model.lower()).strip("-")[-32:]
        digest = hashlib.sha1(f"{self.embed_model}|{self.chunk_tokens}|{self.chunk_overlap}".encode()).hexdigest()[:8]
        return f"ipqa-{slug}-{digest}".strip("-")[:60]

    @property
    def answer_log_path(self) -> Path:
        """The answer log (JSON Lines), one record per answer."""
        return self.data_dir / "answers.jsonl"

    @property
    def uploads_dir(self) -> Path:
        """Where the web app keeps uploaded files (their documents get `upload:` ids, never a catalog id)."""
        return self.data_dir / "uploads"

    @property
    def index_dir(self) -> Path:
        """Directory of this model/chunking's index state."""
        return self.data_dir / self.index_name
