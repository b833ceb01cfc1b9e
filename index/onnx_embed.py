"""A torch-free embedder: an ONNX copy of a sentence-transformers model, run by ONNX Runtime or OpenVINO.

Why: importing torch and sentence-transformers takes about 6 s here, more than the whole rest of a cold
CLI question. The copy is exported once, at `model build` time, from the same weights in float32
(`export_onnx`, which needs torch); the query path then needs only `tokenizers`, `onnxruntime` and numpy
(about 0.2 s of imports). The graph holds the transformer and the mean pooling; normalisation is numpy.
sentence-transformers' own `backend="onnx"`/`"openvino"` need optimum-onnx (transformers < 4.58) or
optimum-intel 2.2 (transformers < 5.6, another torch), which do not install beside the transformers here.

The copy lives in `<model>/onnx-3/`: `model.onnx`, the model's `tokenizer.json` and `embedder.json` (prompts,
maximum length, pad id). Texts are sorted by length before batching, so a batch pads little.

The word-embedding table (250,037 x 384 in float16, 192 MB of the 278 MB) is taken out of the graph into
`word_embeddings.npy`, mapped from disk and indexed in numpy: a session over the rest starts in about half
the time (a cold question needs the embeddings of a few tokens, not the table), and the numbers are the same.

Two runtimes read the same `model.onnx`: ONNX Runtime in float32, and OpenVINO in bfloat16, which the backend
`auto` picks where the CPU computes bfloat16 natively (AVX512_BF16 or AMX): 1.6 to 1.8x the queries per second
at a batch of 16 on the 2-core EPYC here, cosine 0.99999 to float32. Elsewhere OpenVINO would run float32 at ONNX
Runtime's speed, so `auto` keeps ONNX Runtime.

Loading `tokenizer.json` (250,002 Unigram pieces) takes 0.6 to 1 s and holds the GIL. A question's tokens
depend only on the pieces found inside its own words, so the first few queries are tokenized by a
tokenizer made for them: the same normalizer, pre-tokenizer and post-processor, and a vocabulary of just
those pieces (with their scores, and the lowest-scored piece, which sets the unknown-token score), read
from `pieces.sqlite3`. Its Viterbi search sees the same candidates with the same scores, so it returns the
same tokens (tested against the full tokenizer); their ids are mapped back by piece. Documents, and
queries after the first few, use the full tokenizer.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.embeddings import Embedder, compute_threads

FORMAT = 3  # bump when the exported files change: an older copy is exported again
ONNX_DIR = f"onnx-{FORMAT}"  # beside older copies, which older checkouts sharing the models folder still use
WORD_TABLE = "word_embeddings.npy"
PIECES = "pieces.sqlite3"  # piece -> (id, score) of the Unigram vocabulary, for the quick tokenizer
SKELETON = "tokenizer-skeleton.json"  # tokenizer.json without its vocabulary
QUICK_QUERIES = 16  # queries tokenized by the quick tokenizer before the full one is loaded


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
        os.chmod(name, 0o644)  # mkstemp made it private; the models folder may be shared
        os.replace(name, target)
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(name)
    return target


@functools.cache
def bf16_native() -> bool:
    """Whether OpenVINO is installed and this CPU computes bfloat16 natively (the flags torch's `dtype="auto"`
    reads too). Neither imports OpenVINO: a cold question on another CPU does not pay for it."""
    import importlib.util

    from index.embeddings import cpu_has_bf16

    return cpu_has_bf16() and importlib.util.find_spec("openvino") is not None


def openvino_cache(model: Path, version: str) -> Path:
    """Where OpenVINO caches the compiled model: a folder per runtime version ("2026.4.1-22982-…/2026/4" is one
    path segment here, not three)."""
    return model.parent / ("openvino-" + re.sub(r"[^0-9A-Za-z.]+", "_", version))


def openvino_runner(model: Path, threads: int) -> tuple[Callable[[dict[str, np.ndarray]], np.ndarray], set[str]]:
    """`model.onnx` compiled by OpenVINO in bfloat16 (float32 where the CPU has no bfloat16), and a function that
    runs it: one infer request per thread, since a request is not safe to share. The compiled form is cached
    beside the model (compiling takes 0.5 s, loading the cache 0.1 s) when that folder can be written."""
    import openvino as ov

    config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": "bf16", "INFERENCE_NUM_THREADS": threads,
                              "PERFORMANCE_HINT": "LATENCY"}
    cache = openvino_cache(model, ov.__version__)
    with contextlib.suppress(OSError):
        cache.mkdir(exist_ok=True)
    if os.access(cache, os.W_OK):
        config["CACHE_DIR"] = str(cache)
    compiled = ov.Core().compile_model(str(model), "CPU", config)
    local = threading.local()

    def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
        request = getattr(local, "request", None)
        if request is None:
            request = local.request = compiled.create_infer_request()
        return np.array(request.infer(feeds)[0], dtype=np.float32)  # a copy: the request reuses its output

    return run, {i.get_any_name() for i in compiled.inputs}


def onnx_dir(model_dir: Path) -> Path:
    return model_dir / ONNX_DIR


def has_onnx(model_dir: Path) -> bool:
    meta = onnx_dir(model_dir) / "embedder.json"
    if not all((onnx_dir(model_dir) / name).exists() for name in ("embedder.json", "model.onnx", PIECES, SKELETON)):
        return False
    try:
        return int(json.loads(meta.read_text(encoding="utf-8")).get("format", 0)) == FORMAT
    except (OSError, ValueError):
        return False


def split_word_table(model: Path, table: Path) -> str | None:
    """Take the word-embedding lookup (a Gather of `input_ids` from a stored table, and the Cast after it)
    out of the graph: save the table as .npy, make the lookup's output a graph input. Returns that input's
    name, or None when the graph has no such lookup (it is left as it was)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    proto = onnx.load(str(model))
    graph = proto.graph
    stored = {t.name: t for t in graph.initializer}
    gather = next((n for n in graph.node if n.op_type == "Gather" and n.input[0] in stored
                   and n.input[1] == "input_ids"), None)
    if gather is None:
        return None
    removed = [gather]
    output = gather.output[0]
    after = [n for n in graph.node if output in n.input]
    if len(after) == 1 and after[0].op_type == "Cast":
        removed.append(after[0])
        output = after[0].output[0]
    weights = numpy_helper.to_array(stored[gather.input[0]])
    np.save(table, np.ascontiguousarray(weights))
    graph.initializer.remove(stored[gather.input[0]])
    for node in removed:
        graph.node.remove(node)
    width = int(weights.shape[1])
    graph.input.append(helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", "tokens", width]))
    onnx.save(proto, str(model))
    return output


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
        table_input = split_word_table(work / "model.onnx", work / WORD_TABLE)
        optimized(work / "model.onnx")
        shutil.copyfile(tokenizer_json, work / "tokenizer.json")
        save_pieces(work / "tokenizer.json", work)
        meta = {
            "format": FORMAT,
            "query_prompt": prompts.get("query") or "",
            "document_prompt": prompts.get("passage") or prompts.get("document") or "",
            "max_length": int(model.max_seq_length or 512),
            "pad_id": pad_id,
            "dtype": "float32",
            "dimension": int(auto_model.config.hidden_size),
            "word_table_input": table_input,  # None: the table stayed in the graph
        }
        (work / "embedder.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        work.chmod(0o755)
        if has_onnx(target.parent):  # another process finished first: keep its copy, and what grew beside it
            return target  # (OpenVINO's compile cache, ONNX Runtime's optimised graph), which a swap would delete
        if target.exists():  # an older format
            shutil.rmtree(target)
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def save_pieces(tokenizer_json: Path, folder: Path) -> bool:
    """Write the quick tokenizer's files beside a Unigram `tokenizer.json`; False when it is not one."""
    import sqlite3

    spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    model = spec.get("model") or {}
    if model.get("type") != "Unigram" or model.get("byte_fallback") or model.get("unk_id") is None:
        return False
    vocab = model["vocab"]
    unk = int(model["unk_id"])
    specials = {t["content"]: int(t["id"]) for t in spec.get("added_tokens") or []}
    if any(vocab[i][0] != name for name, i in specials.items() if i < len(vocab)) or unk >= len(vocab):
        return False
    lowest = min(range(len(vocab)), key=lambda i: vocab[i][1])
    with contextlib.closing(sqlite3.connect(folder / PIECES)) as db:
        db.execute("CREATE TABLE pieces (piece TEXT PRIMARY KEY, id INTEGER, score REAL) WITHOUT ROWID")
        db.execute("CREATE TABLE meta (longest INTEGER, lowest INTEGER, unk INTEGER)")
        # as the tokenizer's own map: a piece listed twice keeps its last id
        db.executemany("INSERT OR REPLACE INTO pieces VALUES (?, ?, ?)",
                       ((piece, n, score) for n, (piece, score) in enumerate(vocab)))
        db.execute("INSERT INTO meta VALUES (?, ?, ?)", (max(len(p) for p, _ in vocab), lowest, unk))
        db.commit()
    spec["model"] = {**model, "vocab": []}
    (folder / SKELETON).write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return True


@dataclass(frozen=True)
class Tokens:
    ids: list[int]


class QuickTokenizer:
    """Tokenizes a few texts exactly as the full Unigram tokenizer would, without loading its vocabulary."""

    def __init__(self, folder: Path, max_length: int):
        import sqlite3

        from tokenizers import Tokenizer

        self.spec = json.loads((folder / SKELETON).read_text(encoding="utf-8"))
        self.db = sqlite3.connect(f"file:{folder / PIECES}?mode=ro", uri=True, check_same_thread=False)
        self.longest, lowest, self.unk = self.db.execute("SELECT longest, lowest, unk FROM meta").fetchone()
        self.lowest = self._pieces_by_id([lowest])
        self.lowest_id = int(lowest)
        self.max_length = max_length
        self.specials = {t["content"]: int(t["id"]) for t in self.spec.get("added_tokens") or []}
        leading = 0  # the special tokens at the head of the vocabulary (<s> <pad> </s> <unk>) keep their ids
        while leading in self.specials.values():
            leading += 1
        self.firsts = self._pieces_by_id(range(leading))
        self.spec["added_tokens"] = [t for t in self.spec.get("added_tokens") or [] if t["id"] < len(self.firsts)]
        shell = json.loads(json.dumps(self.spec))
        shell["model"]["vocab"] = self.firsts
        self.shell = Tokenizer.from_str(json.dumps(shell))  # normalizer and pre-tokenizer only

    def _pieces_by_id(self, ids: Any) -> list[list[Any]]:
        wanted = list(ids)
        found = dict(((n, [p, s]) for p, n, s in self.db.execute(
            f"SELECT piece, id, score FROM pieces WHERE id IN ({','.join('?' * len(wanted))})", wanted)))
        return [found[n] for n in wanted]

    def handles(self, text: str) -> bool:
        """Texts holding a special token's text go to the full tokenizer (its added-token split)."""
        return not any(name in text for name in self.specials)

    def _candidates(self, text: str) -> dict[str, tuple[int, float]]:
        assert self.shell.normalizer is not None and self.shell.pre_tokenizer is not None
        words = self.shell.pre_tokenizer.pre_tokenize_str(self.shell.normalizer.normalize_str(text))
        subs = {w[i:j] for w, _ in words for i in range(len(w))
                for j in range(i + 1, min(len(w), i + self.longest) + 1)}
        found: dict[str, tuple[int, float]] = {}
        subs_list = list(subs)
        for start in range(0, len(subs_list), 500):
            part = subs_list[start : start + 500]
            for piece, n, score in self.db.execute(
                    f"SELECT piece, id, score FROM pieces WHERE piece IN ({','.join('?' * len(part))})", part):
                found[piece] = (int(n), float(score))
        return found

    def encode_batch(self, texts: Sequence[str]) -> list[Tokens]:
        from tokenizers import Tokenizer

        found: dict[str, tuple[int, float]] = {}
        for text in texts:
            found.update(self._candidates(text))
        names = {p for p, _ in self.firsts} | {self.lowest[0][0]}
        vocab = [*self.firsts, *self.lowest, *([p, s] for p, (_, s) in found.items() if p not in names)]
        spec = dict(self.spec)
        spec["model"] = {**self.spec["model"], "vocab": vocab}
        tokenizer = Tokenizer.from_str(json.dumps(spec))
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_length)
        full_id = [*range(len(self.firsts)), self.lowest_id, *(found[p][0] for p, _ in vocab[len(self.firsts) + 1 :])]
        return [Tokens([full_id[n] for n in enc.ids]) for enc in tokenizer.encode_batch(list(texts))]


class OnnxEmbeddings(Embedder):
    """LangChain's `Embeddings` methods over an exported copy: the same prompts, pooling and normalisation as the
    sentence-transformers model it was exported from, computed by ONNX Runtime or by OpenVINO (`runtime`)."""

    def __init__(self, directory: Path, batch_size: int = 8, threads: int = 0, name: str = "",
                 quick_queries: int = QUICK_QUERIES, runtime: str = "onnxruntime"):
        meta = json.loads((directory / "embedder.json").read_text(encoding="utf-8"))
        self.name = name
        self.batch_size = batch_size
        self.query_prompt: str = meta["query_prompt"]
        self.document_prompt: str = meta["document_prompt"]
        self.max_length = int(meta["max_length"])
        self.pad_id = int(meta["pad_id"])
        self.directory = directory
        self._tokenizer: Any = None
        self._tokenizer_lock = threading.Lock()
        self.quick: QuickTokenizer | None = None
        self.quick_left = quick_queries
        if quick_queries > 0 and (directory / PIECES).exists() and (directory / SKELETON).exists():
            try:
                self.quick = QuickTokenizer(directory, self.max_length)
            except Exception:
                self.quick = None
        self.runtime = runtime
        self.session: Any = None
        if runtime == "openvino":
            self._infer, self.inputs = openvino_runner(directory / "model.onnx", compute_threads(threads))
        elif runtime == "onnxruntime":
            self._infer, self.inputs = self._onnxruntime(directory / "model.onnx", threads)
        else:
            raise ValueError(f"unknown runtime {runtime!r} (onnxruntime or openvino)")
        self.table_input: str | None = meta.get("word_table_input")
        self.table = np.load(directory / WORD_TABLE, mmap_mode="r") if self.table_input else None

    def _onnxruntime(self, model: Path, threads: int) -> tuple[Callable[[dict[str, np.ndarray]], np.ndarray],
                                                                  set[str]]:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = compute_threads(threads)
        options.inter_op_num_threads = 1
        # no spin-waiting between calls: on 2 shared cores the spinning threads took the CPU from the server's
        # other threads (measured: a query 44 ms with spinning, 21 ms without, at a load average of 7)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        ready = optimized(model)
        options.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_DISABLE_ALL if ready is not None
                                            else ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
        session = self.session = ort.InferenceSession(str(ready or model), options,
                                                      providers=["CPUExecutionProvider"])
        return (lambda feeds: session.run(None, feeds)[0]), {i.name for i in session.get_inputs()}

    def _run(self, encodings: Sequence[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feeds: dict[str, np.ndarray] = {"input_ids": ids, "attention_mask": mask}
        if self.table is not None and self.table_input:
            feeds[self.table_input] = np.asarray(self.table[ids], dtype=np.float32)
        out = self._infer({k: v for k, v in feeds.items() if k in self.inputs})
        return np.asarray(out, dtype=np.float32)

    @property
    def tokenizer(self) -> Any:
        """The full tokenizer, loaded on first use."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            with self._tokenizer_lock:
                if self._tokenizer is None:
                    loaded = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
                    loaded.no_padding()
                    loaded.enable_truncation(self.max_length)
                    self._tokenizer = loaded
        return self._tokenizer

    def warm(self) -> None:
        """Load the full tokenizer now (a server, at start-up), not on a later query."""
        self.quick = None
        _ = self.tokenizer

    def _tokenize(self, texts: list[str], queries: bool) -> list[Any]:
        quick = self.quick
        if queries and quick is not None and self._tokenizer is None and self.quick_left >= len(texts) \
                and all(quick.handles(t) for t in texts):
            self.quick_left -= len(texts)
            return quick.encode_batch(texts)
        return list(self.tokenizer.encode_batch(texts))

    def encode(self, texts: Sequence[str], prompt: str = "", queries: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        encodings = self._tokenize([prompt + t for t in texts], queries)
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
        return self.encode(texts, self.query_prompt, queries=True)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts, self.document_prompt).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text], self.query_prompt, queries=True)[0].tolist()
