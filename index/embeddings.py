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


def load_sentence_model(name: str, models_dir: Path) -> SentenceTransformer:
    offline()
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    where = ensure_model(name, models_dir)
    return SentenceTransformer(str(where), device="cpu", local_files_only=True,
                               model_kwargs={"dtype": torch.float32})


class SentenceEmbeddings(Embeddings):
    """Any sentence-transformers model; the model's own prompts (query: / passage:) are applied."""

    def __init__(self, model: SentenceTransformer, batch_size: int = 32, name: str = ""):
        self.model = model
        self.batch_size = batch_size
        self.name = name
        prompts = model.prompts or {}
        self.query_prompt = prompts.get("query", "")
        self.document_prompt = prompts.get("passage") or prompts.get("document") or ""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(texts, prompt=self.document_prompt, batch_size=self.batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        vector = self.model.encode([text], prompt=self.query_prompt, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)[0]
        return vector.tolist()


def load_embeddings(name: str, models_dir: Path, batch_size: int = 32) -> SentenceEmbeddings:
    return SentenceEmbeddings(load_sentence_model(name, models_dir), batch_size=batch_size, name=name)


class LazyEmbeddings(Embeddings):
    """Loads the model on first use: an unchanged re-index or a BM25-only search never loads it."""

    def __init__(self, name: str, models_dir: Path, batch_size: int = 32):
        self.name, self.models_dir, self.batch_size = name, models_dir, batch_size
        self._loaded: SentenceEmbeddings | None = None

    @property
    def loaded(self) -> SentenceEmbeddings:
        if self._loaded is None:
            self._loaded = load_embeddings(self.name, self.models_dir, self.batch_size)
        return self._loaded

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.loaded.embed_documents(texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self.loaded.embed_query(text)
