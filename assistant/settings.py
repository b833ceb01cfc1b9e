"""All settings in one place, read from the environment (prefix REVIEW_ASSISTANT_) or a .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EMBEDDING_MODEL = "multilingual-e5-small-q4"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEW_ASSISTANT_", env_file=".env", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "data"
    var_dir: Path = PROJECT_ROOT / "var"

    # Embeddings: the default is built from installed packages (review-assistant model build);
    # any sentence-transformers model name or local path works too (BAAI/bge-small-zh-v1.5, bge-m3).
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    models_dir: Path | None = None  # default: var_dir/models
    embedding_batch_size: int = 8  # measured: small batches pad less (bench/retrieval.py notes)
    # auto: bfloat16 where the CPU has avx512_bf16 (1.75x faster here, cosine to float32 >= 0.998), else float32
    embedding_dtype: Literal["auto", "float32", "bfloat16"] = "auto"

    # The store: an embedded Chroma in index_dir, or a Chroma server when chroma_host is set.
    index_dir: Path | None = None  # default: var_dir/index
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "review_rows"

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
    max_messages: int = 50
    audit_log: Path | None = None  # default: var_dir/audit.jsonl
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
    def models_path(self) -> Path:
        return self.models_dir or self.var_dir / "models"

    @property
    def index_path(self) -> Path:
        return self.index_dir or self.var_dir / "index"


@lru_cache
def get_settings() -> Settings:
    return Settings()
