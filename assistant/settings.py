"""All settings in one place, read from the environment (prefix REVIEW_ASSISTANT_) or a .env file."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
DEFAULT_EMBEDDING_MODEL = "multilingual-e5-small-q4"


def is_source_checkout() -> bool:
    """Run from the repository (or an editable install of it), not from an installed wheel."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "prompts").is_dir()


def bundled(installed: str, checkout: str) -> Path:
    """A folder shipped with the package: `assistant/<installed>` in a wheel, `<checkout>` at the top of the
    repository in a source checkout or an editable install (the wheel maps prompts/ to assistant/prompts and
    data/ to assistant/bundled_data)."""
    inside = PACKAGE_DIR / installed
    return inside if inside.is_dir() else PROJECT_ROOT / checkout


PROMPTS_DIR = bundled("prompts", "prompts")
BUNDLED_DATA_DIR = bundled("bundled_data", "data")


def default_var_dir() -> Path:
    """The repository's var/ in a source checkout, else a per-user data folder (XDG_DATA_HOME)."""
    if is_source_checkout():
        return PROJECT_ROOT / "var"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "review-assistant"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEW_ASSISTANT_", env_file=".env", extra="ignore")

    data_dir: Path = BUNDLED_DATA_DIR  # the sources, sources.toml, departments.toml and lexicon.toml
    var_dir: Path = Field(default_factory=default_var_dir)
    verbose: bool = False  # library progress bars and warnings on stderr (the CLI's --verbose)

    # Reading sources: bounds that keep a malformed file from exhausting time or memory. An xlsx is read
    # by streaming at most this many rows and columns per sheet (a value beyond them is a named error);
    # no file, and no part of an xlsx archive, may be bigger than ingest_max_bytes.
    ingest_max_rows: int = 100_000
    ingest_max_columns: int = 100
    ingest_max_bytes: int = 16 * 1024 * 1024

    # Embeddings: the default is built from installed packages (review-assistant model build);
    # any sentence-transformers model name or local path works too (BAAI/bge-small-zh-v1.5, bge-m3).
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    models_dir: Path | None = None  # default: var_dir/models
    embedding_batch_size: int = 8  # measured: small batches pad less (bench/retrieval.py notes)
    # auto: bfloat16 where the CPU has avx512_bf16 (1.75x faster here, cosine to float32 >= 0.998), else float32
    embedding_dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    # auto, for the built default model, whose float32 ONNX copy is exported at `model build` time (no torch on
    # the query path): OpenVINO in bfloat16 where the CPU computes it natively (1.6-1.8x ONNX Runtime's
    # throughput), else ONNX Runtime in float32; cosine to sentence-transformers float32 >= 0.999 both ways,
    # tested. sentence-transformers for any other name or path. embedding_dtype applies to torch only.
    embedding_backend: Literal["auto", "onnx", "openvino", "torch"] = "auto"
    # Threads per process for the model's arithmetic; 0: every core. `serve --workers N` gives each worker
    # cores / N when this is 0, so that N workers do not fight over the cores.
    embedding_threads: int = Field(default=0, ge=0)
    # Under load, concurrent queries share one model call: the first waits at most this long for the queries
    # of searches already under way (a lone query does not wait; index.batching); recent query embeddings are
    # cached. 0 / 0: off.
    query_batch_window_ms: float = 10.0
    query_batch_max: int = 16
    query_cache_size: int = 256

    # The store: an embedded Chroma in index_dir, or a Chroma server when chroma_host is set.
    index_dir: Path | None = None  # default: var_dir/index
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "review_rows"
    # The saved snapshots (vectors, filter columns, BM25) of the live collection, keyed by what it holds:
    # a cold start loads them instead of reading the whole collection. Default: var_dir/index-cache.
    index_cache_dir: Path | None = None
    # Each process (every `serve --workers N` worker) looks at most this often whether another process has
    # synced or rebuilt the index, and then follows it.
    index_follow_seconds: float = 2.0

    # Hybrid retrieval: measured by bench/retrieval.py (see the closing note of the retrieval work).
    fusion: Literal["rrf", "weighted"] = "rrf"
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    candidates: int = 50  # per retriever, before fusion

    # The optional LLM: any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, hosted Qwen/DeepSeek).
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 60.0
    llm_max_tokens: int = 512

    # The HTTP service.
    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: str = ""  # comma-separated; when set, every route but /health and static files needs a Bearer key
    cors_origins: str = ""  # comma-separated origins allowed to call the API from a browser
    max_body_bytes: int = 65536
    # OpenAI clients send the whole chat; the last N messages serve as context (the byte limit guards abuse).
    chat_context_messages: int = 20
    audit_log: Path | None = None  # default: var_dir/audit.jsonl
    # The audit log rotates when it would grow past this many bytes, keeping this many older files
    # (audit.jsonl.1 … .N); 0 bytes: never rotates.
    audit_max_bytes: int = 10 * 1024 * 1024
    audit_backups: int = 5
    # Published data versions (assistant/versions.py): default var_dir/published/<data folder id>. Each
    # process looks at the current-version pointer at most this often and follows a publish or rollback.
    published_dir: Path | None = None
    version_follow_seconds: float = 2.0
    max_upload_bytes: int = 16 * 1024 * 1024  # POST /api/sources (the body limit above is for JSON)
    model_name: str = "review-assistant"  # the model id the OpenAI-compatible endpoints report

    @property
    def api_key_list(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def audit_path(self) -> Path:
        return self.audit_log or self.var_dir / "audit.jsonl"

    @property
    def published_path(self) -> Path:
        from assistant.versions import store_path

        return self.published_dir or store_path(self.var_dir, self.data_dir)

    @property
    def models_path(self) -> Path:
        return self.models_dir or self.var_dir / "models"

    @property
    def index_path(self) -> Path:
        return self.index_dir or self.var_dir / "index"

    @property
    def index_cache_path(self) -> Path:
        return self.index_cache_dir or self.var_dir / "index-cache"


@lru_cache
def get_settings() -> Settings:
    return Settings()
