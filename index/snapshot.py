"""An in-memory picture of the live collection, taken once per change: the ids, a column of codes per
metadata key (for filters), the normalised vectors, and each document's BM25 token ids.

Why: Chroma's local engine scans its metadata tables on every filtered query (chroma-core/chroma#7092;
measured here at about 1 ms per 1,000 rows), and returns rows by id at about 45 µs each. A filter
over this picture is a few numpy comparisons, and an exact dense search over the rows that pass it
is one matrix product. Rows are read in pages, so building it never holds the whole collection as
Python objects.

It also keeps each row's text and metadata, encoded in one byte string with an offset per row (mapped from
disk when saved): the few rows a search returns are read from it, so a question answered from a saved
snapshot never opens the store.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PAGE = 5000
FORMAT = 2  # of a saved snapshot: bump when the files change
MISSING = -1  # the code of a row that lacks the key


def value_key(value: Any) -> tuple[bool, Any]:
    """True == 1 in Python; Chroma tells booleans from numbers, so the codes do too."""
    return (isinstance(value, bool), value)


@dataclass(frozen=True)
class Snapshot:
    ids: list[str]
    vectors: np.ndarray  # float32, one unit-length row per id (zero rows stay zero)
    columns: dict[str, np.ndarray]  # metadata key -> int32 code per row
    codes: dict[str, dict[tuple[bool, Any], int]]  # metadata key -> value -> code
    doc_tokens: Sequence[Any]  # BM25 token ids per row (arrays of int)
    vocab: dict[str, int]  # token -> id
    generation: int = 0  # the index's generation it was taken at
    home: Path | None = None  # the folder it is saved in, when saved (its BM25 is saved beside it)
    rows: Any = None  # uint8 array: each row's JSON [text, metadata] (without BM25 tokens), one after another
    row_offsets: np.ndarray | None = None  # int64, len + 1: row n is rows[offsets[n]:offsets[n + 1]]
    _row_of: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def rows_of(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """id -> (text, metadata) of the ids this snapshot holds ({} when it keeps no rows)."""
        if self.rows is None or self.row_offsets is None:
            return {}
        if not self._row_of and self.ids:
            self._row_of.update((i, n) for n, i in enumerate(self.ids))
        found = {}
        for doc_id in ids:
            n = self._row_of.get(doc_id)
            if n is not None:
                text, meta = json.loads(bytes(self.rows[self.row_offsets[n] : self.row_offsets[n + 1]]))
                found[doc_id] = (text, meta)
        return found

    def mask(self, filters: Mapping[str, Any] | None) -> np.ndarray | None:
        """Rows whose metadata equals every filter value; None when there is nothing to filter on."""
        wanted = {k: v for k, v in (filters or {}).items() if v is not None}
        if not wanted:
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        for key, value in wanted.items():
            code = self.codes.get(key, {}).get(value_key(value))
            if code is None:
                return np.zeros(len(self.ids), dtype=bool)
            keep &= self.columns[key] == code
        return keep


def take_snapshot(collection: Any, tokens_key: str, tokenize: Callable[[str], list[str]],
                  generation: int = 0, page: int = PAGE) -> Snapshot:
    total = int(collection.count())
    ids: list[str] = []
    vectors: np.ndarray | None = None
    raw_columns: dict[str, array] = {}
    codes: dict[str, dict[tuple[bool, Any], int]] = {}
    doc_tokens: list[array] = []
    vocab: dict[str, int] = {}
    untokenized: list[int] = []
    row_bytes = bytearray()
    row_offsets = array("q", [0])

    def token_ids(tokens: list[str]) -> array:
        return array("i", (vocab.setdefault(t, len(vocab)) for t in tokens))

    for offset in range(0, total, page):
        got = collection.get(include=["metadatas", "embeddings", "documents"], limit=page, offset=offset)
        embeddings = np.asarray(got["embeddings"], dtype=np.float32)
        if vectors is None:
            vectors = np.zeros((total, embeddings.shape[1] if embeddings.ndim == 2 else 0), dtype=np.float32)
        start = len(ids)
        vectors[start : start + len(got["ids"])] = embeddings
        for n, meta in enumerate(got["metadatas"]):
            row = start + n
            meta = meta or {}
            shown = {k: v for k, v in meta.items() if not k.startswith("_tokens")}
            row_bytes += json.dumps([got["documents"][n] or "", shown], ensure_ascii=False).encode()
            row_offsets.append(len(row_bytes))
            for key, value in meta.items():
                if key.startswith("_"):
                    continue
                if key not in raw_columns:
                    raw_columns[key] = array("i", [MISSING]) * total
                raw_columns[key][row] = codes.setdefault(key, {}).setdefault(value_key(value), len(codes[key]))
            if tokens_key in meta:
                doc_tokens.append(token_ids(str(meta[tokens_key]).split()))
            else:
                doc_tokens.append(array("i"))
                untokenized.append(row)
        ids += got["ids"]

    for start in range(0, len(untokenized), page):  # written by an older tokenizer: tokenize the text now
        rows = untokenized[start : start + page]
        got = collection.get(ids=[ids[r] for r in rows], include=["documents"])
        text_of = dict(zip(got["ids"], got["documents"], strict=True))
        for r in rows:
            doc_tokens[r] = token_ids(tokenize(text_of[ids[r]] or ""))

    if vectors is None:
        vectors = np.zeros((0, 0), dtype=np.float32)
    vectors = vectors[: len(ids)]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True) if vectors.size else np.zeros((len(ids), 1))
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    columns = {key: np.frombuffer(col, dtype=np.int32)[: len(ids)] for key, col in raw_columns.items()}
    return Snapshot(ids, vectors, columns, codes, doc_tokens[: len(ids)], vocab, generation,
                    rows=np.frombuffer(bytes(row_bytes), dtype=np.uint8),
                    row_offsets=np.frombuffer(row_offsets, dtype=np.int64)[: len(ids) + 1])


def save_snapshot(snap: Snapshot, where: Path) -> None:
    """Write the snapshot to the folder `where` (atomically: a half-written one is never read)."""
    if where.exists():
        return
    where.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{where.name}-", dir=where.parent))
    try:
        keys = sorted(snap.columns)
        np.save(work / "vectors.npy", snap.vectors)
        np.save(work / "columns.npy", np.stack([snap.columns[k] for k in keys]) if keys
                else np.zeros((0, len(snap)), dtype=np.int32))
        lengths = np.fromiter((len(t) for t in snap.doc_tokens), dtype=np.int64, count=len(snap))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        flat = np.zeros(int(offsets[-1]), dtype=np.int32)
        for n, tokens in enumerate(snap.doc_tokens):
            flat[offsets[n] : offsets[n + 1]] = np.asarray(tokens, dtype=np.int32)
        np.save(work / "tokens.npy", flat)
        np.save(work / "offsets.npy", offsets)
        if snap.rows is not None and snap.row_offsets is not None:
            np.save(work / "rows.npy", np.asarray(snap.rows, dtype=np.uint8))
            np.save(work / "row_offsets.npy", np.asarray(snap.row_offsets, dtype=np.int64))
        vocab = sorted(snap.vocab, key=snap.vocab.__getitem__)
        meta = {"format": FORMAT, "ids": snap.ids, "keys": keys, "vocab": vocab,
                "codes": {k: [[is_bool, value, code] for (is_bool, value), code in snap.codes.get(k, {}).items()]
                          for k in keys}}
        (work / "snapshot.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        work.chmod(0o755)
        with contextlib.suppress(OSError):  # another process saved it first
            work.rename(where)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def load_snapshot(where: Path, generation: int = 0) -> Snapshot | None:
    """A saved snapshot (its vectors mapped from disk, not read), or None when there is none to use."""
    try:
        meta = json.loads((where / "snapshot.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            return None
        vectors = np.load(where / "vectors.npy", mmap_mode="r")
        columns_matrix = np.load(where / "columns.npy")
        flat = np.load(where / "tokens.npy")
        offsets = np.load(where / "offsets.npy")
    except (OSError, ValueError):
        return None
    try:
        rows: Any = np.load(where / "rows.npy", mmap_mode="r")
        row_offsets: np.ndarray | None = np.load(where / "row_offsets.npy")
    except (OSError, ValueError):
        rows, row_offsets = None, None
    ids: list[str] = meta["ids"]
    keys: list[str] = meta["keys"]
    columns = {k: columns_matrix[n] for n, k in enumerate(keys)}
    codes = {k: {(bool(is_bool), value): int(code) for is_bool, value, code in meta["codes"][k]} for k in keys}
    bounds = offsets.tolist()
    doc_tokens = [flat[bounds[i] : bounds[i + 1]] for i in range(len(ids))]
    vocab = {token: n for n, token in enumerate(meta["vocab"])}
    return Snapshot(ids, vectors, columns, codes, doc_tokens, vocab, generation, rows=rows, row_offsets=row_offsets)
