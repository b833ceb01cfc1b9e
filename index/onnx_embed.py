"""A torch-free embedder: an ONNX copy of a sentence-transformers model, run by ONNX Runtime.

Why: importing torch and sentence-transformers takes about 6 s here, more than the whole rest of a cold
CLI question. The copy is exported once, at `model build` time, from the same weights in float32
(`export_onnx`, which needs torch); the query path then needs only `tokenizers`, `onnxruntime` and numpy
(about 0.2 s of imports). The graph holds the transformer and the mean pooling; normalisation is numpy.
sentence-transformers' own `backend="onnx"`/`"openvino"` need optimum-onnx (transformers < 4.58) or
optimum-intel 2.2 (transformers < 5.6, another torch), which do not install beside the transformers here.

The copy lives in `<model>/onnx/`: `model.onnx`, the model's `tokenizer.json` and `embedder.json` (prompts,
maximum length, pad id). Texts are sorted by length before batching, so a batch pads little.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

ONNX_DIR = "onnx"
FORMAT = 2  # bump when the exported files change: an older copy is exported again


def optimized(model: Path) -> Path | None:
    """ONNX Runtime's graph optimizations, done once and saved for this runtime version (they take
    longer than reading the model); None when they cannot be saved (a read-only folder)."""
    import onnxruntime as ort

    target = model.with_name(f"{model.stem}.ort-{ort.__version__}.onnx")
    if target.exists():
        return target
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED  # not hardware-specific
    try:
        fd, name = tempfile.mkstemp(prefix=".opt-", suffix=".onnx", dir=model.parent)
        os.close(fd)
        options.optimized_model_filepath = name
        ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        os.replace(name, target)
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(name)
    return target


def onnx_dir(model_dir: Path) -> Path:
    return model_dir / ONNX_DIR


def has_onnx(model_dir: Path) -> bool:
    meta = onnx_dir(model_dir) / "embedder.json"
    if not (meta.exists() and (onnx_dir(model_dir) / "model.onnx").exists()):
        return False
    try:
        return int(json.loads(meta.read_text()).get("format", 0)) == FORMAT
    except (OSError, ValueError):
        return False


def export_onnx(model_dir: Path, opset: int = 17) -> Path:
    """Export the sentence-transformers model in `model_dir` to `model_dir/onnx` (float32), atomically.

    Needs torch (build time only). The graph takes input_ids and attention_mask and returns the
    mean-pooled token embeddings, unnormalised.
    """
    from index.embeddings import offline

    offline()
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True,
                                model_kwargs={"dtype": torch.float32})
    transformer: Any = model[0]
    auto_model: Any = transformer.auto_model.float().eval()
    prompts = model.prompts or {}
    tokenizer_json = model_dir / "tokenizer.json"
    if not tokenizer_json.exists():
        raise FileNotFoundError(f"{tokenizer_json}: the ONNX path needs the model's fast tokenizer file")
    pad_id = int(model.tokenizer.pad_token_id if model.tokenizer.pad_token_id is not None else 0)

    class HalfTable(torch.nn.Module):
        """The word-embedding table kept in float16 (its rows are cast after the lookup): the built
        weights are float16 already, so nothing changes but the file (and load time), halved."""

        def __init__(self, weight: torch.Tensor) -> None:
            super().__init__()
            self.table = torch.nn.Parameter(weight.detach().half(), requires_grad=False)

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.embedding(input_ids, self.table).float()

    words = auto_model.embeddings.word_embeddings
    if torch.equal(words.weight.half().float(), words.weight):  # exact only when the weights are float16 ones
        auto_model.embeddings.word_embeddings = HalfTable(words.weight)

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = auto_model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    target = onnx_dir(model_dir)
    work = Path(tempfile.mkdtemp(prefix=".onnx-", dir=model_dir))
    try:
        ids = torch.tensor([[0, 100, 200, 2], [0, 300, 2, pad_id]], dtype=torch.long)
        mask = (ids != pad_id).long()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on indexing and constants
            torch.onnx.export(MeanPooled().eval(), (ids, mask), str(work / "model.onnx"), dynamo=False,
                              input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                            "attention_mask": {0: "batch", 1: "tokens"},
                                            "sentence_embedding": {0: "batch"}},
                              opset_version=opset, do_constant_folding=True)
        optimized(work / "model.onnx")
        shutil.copyfile(tokenizer_json, work / "tokenizer.json")
        meta = {
            "format": FORMAT,
            "query_prompt": prompts.get("query") or "",
            "document_prompt": prompts.get("passage") or prompts.get("document") or "",
            "max_length": int(model.max_seq_length or 512),
            "pad_id": pad_id,
            "dtype": "float32",
            "dimension": int(auto_model.config.hidden_size),
        }
        (work / "embedder.json").write_text(json.dumps(meta, indent=2))
        work.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


class OnnxEmbeddings(Embeddings):
    """LangChain `Embeddings` over an exported copy: the same prompts, pooling and normalisation as the
    sentence-transformers model it was exported from."""

    def __init__(self, directory: Path, batch_size: int = 8, threads: int | None = None, name: str = ""):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((directory / "embedder.json").read_text())
        self.name = name
        self.batch_size = batch_size
        self.query_prompt: str = meta["query_prompt"]
        self.document_prompt: str = meta["document_prompt"]
        self.max_length = int(meta["max_length"])
        self.pad_id = int(meta["pad_id"])
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads or max(1, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        ready = optimized(directory / "model.onnx")
        options.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_DISABLE_ALL if ready is not None
                                            else ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
        self.session = ort.InferenceSession(str(ready or directory / "model.onnx"), options,
                                            providers=["CPUExecutionProvider"])

    def _run(self, encodings: Sequence[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        out = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return np.asarray(out, dtype=np.float32)

    def encode(self, texts: Sequence[str], prompt: str = "") -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        encodings = self.tokenizer.encode_batch([prompt + t for t in texts])
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")  # similar lengths share a batch
        vectors: np.ndarray | None = None
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out = self._run([encodings[i] for i in rows])
            if vectors is None:
                vectors = np.zeros((len(texts), out.shape[1]), dtype=np.float32)
            vectors[rows] = out
        assert vectors is not None
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, self.query_prompt)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts, self.document_prompt).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text], self.query_prompt)[0].tolist()
