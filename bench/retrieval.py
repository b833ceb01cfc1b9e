"""Retrieval quality on the development questions: recall@1, recall@5 and MRR@10 for dense, BM25 and
hybrid (with the fusion variants measured to choose the default).

Run: .venv/bin/python bench/retrieval.py [--questions FILE...]
Gold rows come from the retrieval-kind questions (the ones answered from rows, not from facts).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.corpus import load_corpus  # noqa: E402
from assistant.search import build_stack, index_corpus  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from index.clients import chroma_client  # noqa: E402
from index.retrieve import HybridRetriever, Retriever  # noqa: E402

RETRIEVAL_KINDS = {"semantic", "target", "crossyear", "exceed"}
SEEDS = {"000": "000_7fc1be17f2f87087.txt", "002": "002_54d987597a722985.txt"}


def load_questions(path: Path) -> list[tuple[str, set[tuple[str, int]]]]:
    data = json.loads(path.read_text(encoding="utf-8"))["questions"]
    return [(q["q"], {(SEEDS[s], line) for s, line in q["cite"]}) for q in data
            if q["kind"] in RETRIEVAL_KINDS and q.get("cite")]


def measure(retriever: Retriever, questions: list[tuple[str, set[tuple[str, int]]]]) -> dict[str, float]:
    r1 = r5 = mrr = 0.0
    for query, gold in questions:
        found = [(h.metadata["source"], h.metadata["line"]) for h in retriever.search(query, k=10)]
        r1 += len(gold & set(found[:1])) / len(gold)
        r5 += len(gold & set(found[:5])) / len(gold)
        mrr += next((1.0 / n for n, row in enumerate(found, 1) if row in gold), 0.0)
    n = len(questions)
    return {"recall@1": r1 / n, "recall@5": r5 / n, "mrr@10": mrr / n}


def main() -> None:
    parser = argparse.ArgumentParser()
    fixtures = ROOT / "tests" / "fixtures"
    parser.add_argument("--questions", type=Path, nargs="+",
                        default=[fixtures / "eval" / "dev_questions.json", fixtures / "retrieval_questions.json"])
    args = parser.parse_args()
    settings = Settings()
    corpus = load_corpus(settings.data_dir)
    stack = build_stack(settings.model_copy(update={"collection": "bench_retrieval"}), corpus,
                        client=chroma_client())
    start = time.perf_counter()
    index_corpus(stack, corpus)
    print(f"indexed {len(corpus.records)} rows in {time.perf_counter() - start:.1f}s "
          f"with {settings.embedding_model}")
    sets = [(path.name, load_questions(path)) for path in args.questions]
    sets.append(("all", [q for _, qs in sets for q in qs]))
    variants: list[tuple[str, Retriever]] = [("dense", stack.dense), ("bm25", stack.bm25)]
    for k in (10, 30, 60):
        variants.append((f"hybrid rrf k={k}", HybridRetriever(stack.dense, stack.bm25, "rrf", rrf_k=k)))
    for dense_weight in (0.5, 0.7):
        variants.append((f"hybrid weighted {dense_weight:.1f}/{1 - dense_weight:.1f}",
                         HybridRetriever(stack.dense, stack.bm25, "weighted",
                                         weights=(dense_weight, 1 - dense_weight))))
    variants.append((f"hybrid (default: {settings.fusion}, k={settings.rrf_k})", stack.hybrid))
    for set_name, questions in sets:
        print(f"\n{set_name}: {len(questions)} questions, {sum(len(g) for _, g in questions)} gold rows")
        print(f"{'retriever':34} {'recall@1':>9} {'recall@5':>9} {'mrr@10':>8}")
        for name, retriever in variants:
            m = measure(retriever, questions)
            print(f"{name:34} {m['recall@1']:9.3f} {m['recall@5']:9.3f} {m['mrr@10']:8.3f}")


if __name__ == "__main__":
    main()
