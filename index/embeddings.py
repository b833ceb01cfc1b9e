"""Embedding models with LangChain's `Embeddings` methods, loaded offline only.

They implement the interface (`embed_documents`, `embed_query`; the `Embedder` protocol) without
subclassing `langchain_core.embeddings.Embeddings`: importing that module pulls in LangChain's runnables and
callbacks (0.3 s), a tenth of a cold CLI question, and nothing here needs its async defaults.

Three backends: sentence-transformers (torch) for any model by name or path, and for a model with an exported
copy (`index.onnx_embed`) ONNX Runtime (float32) or OpenVINO (bfloat16), which the query path uses without
importing torch.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUILT_MODELS = {"multilingual-e5-small-q4"}  # built from installed packages by index.e5_build
Backend = Literal["auto", "onnx", "openvino", "torch"]


class Embedder(Protocol):
    """LangChain's `Embeddings` interface, as the index uses it (any LangChain `Embeddings` satisfies it)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


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

            build_e5(path, keep_existing=True)  # several processes may build at once: the first one stays
        return path
    return Path(name) if Path(name).exists() else name


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def compute_threads(threads: int = 0) -> int:
    """The threads a model computes with: `threads`, or every core when it is 0."""
    return threads if threads > 0 else max(1, os.cpu_count() or 1)


def load_sentence_model(name: str, models_dir: Path, dtype: str = "auto", threads: int = 0) -> SentenceTransformer:
    offline()
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(compute_threads(threads))
    where = ensure_model(name, models_dir)
    if dtype == "auto":
        dtype = "bfloat16" if cpu_has_bf16() else "float32"
    return SentenceTransformer(str(where), device="cpu", local_files_only=True,
                               model_kwargs={"dtype": getattr(torch, dtype)})


class SentenceEmbeddings(Embedder):
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

    def encode_queries(self, texts: list[str]) -> list[list[float]]:
        """Several queries in one call (index.batching)."""
        return self._encode(texts, self.query_prompt)


def load_embeddings(name: str, models_dir: Path, batch_size: int = 8, dtype: str = "auto",
                    threads: int = 0) -> SentenceEmbeddings:
    return SentenceEmbeddings(load_sentence_model(name, models_dir, dtype, threads), batch_size=batch_size, name=name)


def ensure_onnx(model_dir: Path) -> Path:
    """The exported copy of a built model, exported now (with torch, once) if it is missing or outdated."""
    from index.onnx_embed import export_onnx, has_onnx, onnx_dir

    if not has_onnx(model_dir):
        try:
            export_onnx(model_dir)
        except OSError:
            if not has_onnx(model_dir):  # another process may have exported it meanwhile
                raise
    return onnx_dir(model_dir)


def resolve_backend(name: str, backend: Backend = "auto") -> Literal["onnx", "openvino", "torch"]:
    """auto: for a model built here (its copy is exported at build time) or a local model folder that holds an
    exported copy, OpenVINO where the CPU computes bfloat16 natively, else ONNX Runtime; sentence-transformers
    for any other name or path."""
    from index.onnx_embed import bf16_native, has_onnx

    if backend == "torch":
        return "torch"
    exported = name in BUILT_MODELS or (Path(name).is_dir() and has_onnx(Path(name)))
    if backend in ("onnx", "openvino") and not exported:
        raise ValueError(f"embedding backend {backend!r}: {name!r} has no exported ONNX copy "
                         f"(only {', '.join(sorted(BUILT_MODELS))} or a folder with onnx/ inside)")
    if backend == "openvino":
        import importlib.util

        if importlib.util.find_spec("openvino") is None:
            raise ValueError("embedding backend 'openvino': the openvino package is not installed")
        return "openvino"
    if backend == "onnx":
        return "onnx"
    return ("openvino" if bf16_native() else "onnx") if exported else "torch"


def load_any(name: str, models_dir: Path, batch_size: int = 8, dtype: str = "auto",
             backend: Backend = "auto", threads: int = 0) -> Embedder:
    """The embedder the settings name: an exported copy through ONNX Runtime or OpenVINO (no torch), or
    sentence-transformers, computing with `threads` threads (0: every core)."""
    resolved = resolve_backend(name, backend)
    if resolved != "torch":
        from index.onnx_embed import OnnxEmbeddings

        offline()
        where = ensure_model(name, models_dir)
        return OnnxEmbeddings(ensure_onnx(Path(where)), batch_size=batch_size, threads=threads, name=name,
                              runtime="openvino" if resolved == "openvino" else "onnxruntime")
    return load_embeddings(name, models_dir, batch_size, dtype, threads)


class LazyEmbeddings(Embedder):
    """Loads the model on first use: an unchanged re-index or a BM25-only search never loads it."""

    def __init__(self, name: str, models_dir: Path, batch_size: int = 8, dtype: str = "auto",
                 backend: Backend = "auto", threads: int = 0):
        self.name, self.models_dir, self.batch_size, self.dtype = name, models_dir, batch_size, dtype
        self.backend, self.threads = backend, threads
        self._loaded: Embedder | None = None
        self._loading = threading.Lock()
        self._prefetch: threading.Thread | None = None

    @property
    def loaded(self) -> Embedder:
        if self._loaded is None:
            with self._loading:
                if self._loaded is None:
                    self._loaded = load_any(self.name, self.models_dir, self.batch_size, self.dtype, self.backend,
                                            self.threads)
        return self._loaded

    def warm(self) -> None:
        """Load everything now (a server at start-up), including what the model itself defers."""
        warm = getattr(self.loaded, "warm", None)
        if warm is not None:
            warm()

    def prefetch(self) -> None:
        """Start loading the model in a background thread (reading and parsing its files mostly runs outside
        the GIL), so that a cold question loads it while it does its other work; `loaded` waits for it."""
        if self._loaded is None and self._prefetch is None:
            self._prefetch = threading.Thread(target=lambda: self.loaded, name="embedder-load", daemon=True)
            self._prefetch.start()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.loaded.embed_documents(texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self.loaded.embed_query(text)

    def encode_queries(self, texts: list[str]) -> list[list[float]]:
        model = self.loaded
        encode = getattr(model, "encode_queries", None)
        if encode is not None:
            return [list(map(float, row)) for row in encode(texts)]
        return [model.embed_query(t) for t in texts]
