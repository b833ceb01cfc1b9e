"""Sentence-transformers models as LangChain `Embeddings`, loaded offline only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUILT_MODELS = {"multilingual-e5-small-q4"}  # built from installed packages by index.e5_build


def offline() -> None:
    """No model hub, ever: names resolve from local paths or the local cache only."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def model_path(name: str, models_dir: Path) -> Path:
    return models_dir / name


def ensure_model(name: str, models_dir: Path) -> Path | str:
    """The path to load: a built model (built now if missing), a local path, or a name in the local cache."""
    if name in BUILT_MODELS:
        path = model_path(name, models_dir)
        if not (path / "modules.json").exists():
            from index.e5_build import build_e5

            build_e5(path)
        return path
    return Path(name) if Path(name).exists() else name


def cpu_has_bf16() -> bool:
    try:
        return "avx512_bf16" in Path("/proc/cpuinfo").read_text() or "amx_bf16" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def load_sentence_model(name: str, models_dir: Path, dtype: str = "auto") -> SentenceTransformer:
    offline()
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    where = ensure_model(name, models_dir)
    if dtype == "auto":
        dtype = "bfloat16" if cpu_has_bf16() else "float32"
    return SentenceTransformer(str(where), device="cpu", local_files_only=True,
                               model_kwargs={"dtype": getattr(torch, dtype)})


class SentenceEmbeddings(Embeddings):
    """Any sentence-transformers model; the model's own prompts (query: / passage:) are applied."""

    def __init__(self, model: SentenceTransformer, batch_size: int = 8, name: str = ""):
        self.model = model
        self.batch_size = batch_size
        self.name = name
        prompts = model.prompts or {}
        self.query_prompt: str = prompts.get("query") or ""
        self.document_prompt: str = prompts.get("passage") or prompts.get("document") or ""

    def _encode(self, texts: list[str], prompt: str) -> list[list[float]]:
        import numpy as np

        vectors = self.model.encode(texts, prompt=prompt, batch_size=self.batch_size, convert_to_numpy=True,
                                    show_progress_bar=False).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).tolist()  # normalised in float32, whatever the model's dtype

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts, self.document_prompt) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], self.query_prompt)[0]


def load_embeddings(name: str, models_dir: Path, batch_size: int = 8, dtype: str = "auto") -> SentenceEmbeddings:
    return SentenceEmbeddings(load_sentence_model(name, models_dir, dtype), batch_size=batch_size, name=name)


class LazyEmbeddings(Embeddings):
    """Loads the model on first use: an unchanged re-index or a BM25-only search never loads it."""

    def __init__(self, name: str, models_dir: Path, batch_size: int = 8, dtype: str = "auto"):
        self.name, self.models_dir, self.batch_size, self.dtype = name, models_dir, batch_size, dtype
        self._loaded: SentenceEmbeddings | None = None

    @property
    def loaded(self) -> SentenceEmbeddings:
        if self._loaded is None:
            self._loaded = load_embeddings(self.name, self.models_dir, self.batch_size, self.dtype)
        return self._loaded

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.loaded.embed_documents(texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self.loaded.embed_query(text)
