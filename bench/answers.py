"""Answer latency per operation: p50 and p95 of warm answers without an LLM, on the bundled data and on
100,000 synthetic rows, each beside its floor; and the cold start of `review-assistant ask` on a facts question.

Questions are grouped by what the parser made of them (the first query's operation; a query with a text
predicate over every row is a "set scan"), so a question that parses differently than intended shows up in
another group rather than being timed as something it is not.

The synthetic corpus copies the bundled records under other department spellings and earlier years until it
holds --rows rows (see `synthetic`). Set scans run their exact and token passes over every row;
their dense pass is an exact cosine over stand-in vectors of every row (what the index's in-memory snapshot does),
since embedding 100,000 rows takes about 15 minutes here. Content lookups need the real index and run on the
bundled data only.

Run: .venv/bin/python bench/answers.py [--rounds 5] [--rows 100000] [--cold 5] [--only bundled,synthetic,cold]
Floors (issue 10 and earlier): facts operations p95 <= 20 ms at 100k rows; set scans p95 <= 300 ms at 100k rows;
content lookups p95 <= 150 ms; a cold facts answer from the CLI <= 2 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answers import Assistant  # noqa: E402
from assistant.corpus import Corpus  # noqa: E402
from assistant.departments import load_directory  # noqa: E402

# Our own wording, other departments and thresholds than the dev sets; two or more per operation.
QUESTIONS = [
    "市交通集团2022年最终得分是多少?", "What was the difficulty coefficient of the Finance Bureau in 2023?",
    "经济建设类得分超过126分的单位有哪些?", "难度系数在1.13到1.15之间的部门", "2022年有几个部门得分不到120分?",
    "How many departments scored above 130 in 2022?", "社会发展类各部门得分加起来是多少?",
    "经济建设类平均分是多少?", "What is the average difficulty coefficient in 2023?",
    "难度系数最低的是哪个部门?", "社会发展类里谁的分数最高?", "经济建设类得分后三名是谁?",
    "Top 3 departments by final score in 2022", "社会发展类排第二的是谁?", "仅次于市水利局的是哪个部门?",
    "市科技局和市文化广电旅游局的得分差多少?", "2022年经济建设类最高分和最低分差几分?", "有没有得分相同的部门?",
    "哪些部门两年都有数据?", "市残联有哪些承诺?", "市商务局有几项承诺超额完成了?",
    "哪些部门的承诺提到了“数字化”?", "哪些单位的目标涉及养老服务?", "完成率超过100%的承诺有哪些?",
]
# Asked over every year (历年): no newest-year default, so at 100k rows each answer cites every year's inputs
# (thousands of rows). Printed for what they cost; the floor is for questions as they are usually asked.
EVERY_YEAR = ["历年经济建设类平均分是多少?", "历年难度系数最低的是哪个部门?", "每年有几个部门得分不到120分?",
              "历年完成率超过100%的承诺有哪些?"]
CONTENT = ["全市新增规上工业企业多少家?", "乡村振兴方面完成了哪些工作?", "How many new jobs were created in 2022?"]
FACT_FLOOR_MS, SET_FLOOR_MS, CONTENT_FLOOR_MS = 20.0, 300.0, 150.0
SET_PREDICATES = {"TextContains", "TextAbout", "NumberInText"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]


def group_of(answer: Any) -> str:
    queries = answer.searched.get("queries") or [{"operation": answer.mode}]
    first = queries[0]
    if any(p.get("type") in SET_PREDICATES for p in first.get("predicates", [])):
        return "set scan"
    return str(first["operation"])


def timings(assistant: Assistant, questions: list[str], rounds: int) -> dict[str, list[float]]:
    by_group: dict[str, list[float]] = defaultdict(list)
    for q in questions:
        group = group_of(assistant.ask(q))  # warm, and learn the group
        for _ in range(rounds):
            start = time.perf_counter()
            assistant.ask(q)
            by_group[group].append((time.perf_counter() - start) * 1000)
    return by_group


def floor_of(group: str) -> float:
    return SET_FLOOR_MS if group == "set scan" else CONTENT_FLOOR_MS if group == "content" else FACT_FLOOR_MS


def report(title: str, by_group: dict[str, list[float]], floors: bool) -> None:
    print(f"\n{title}")
    print(f"  {'operation':12} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}   {'floor (p95)' if floors else ''}")
    for group in sorted(by_group, key=lambda g: (g == "set scan", g)):
        times = by_group[group]
        p95 = percentile(times, 0.95)
        floor = floor_of(group)
        verdict = f"<= {floor:.0f} ms {'ok' if p95 <= floor else 'NOT MET'}" if floors else ""
        print(f"  {group:12} {len(times):4} {statistics.median(times):8.2f} {p95:8.2f}   {verdict}")


def synthetic(corpus: Corpus, rows: int, variants: int = 27) -> Corpus:
    """The bundled records copied until there are `rows` of them: each copy is one of `variants` department
    spellings (市水利局 stays; then 市水利局·1 … ·26) in a year two years earlier per round of variants, so that
    100,000 rows hold about 750 departments over about 27 pairs of years, as a province's review tables would
    over decades, rather than 14,000 departments in one year."""
    records = list(corpus.records)
    copies = 0
    while len(records) < rows:
        copies += 1
        variant, back = copies % variants, 2 * (copies // variants)
        offset = copies * 100_000
        for r in corpus.records:
            if len(records) >= rows:
                break
            records.append(dataclasses.replace(
                r, department=f"{r.department}·{variant}" if variant else r.department, year=r.year - back,
                line=r.line + offset, first_line=r.first_line + offset if r.first_line is not None else None))
    directory = load_directory(corpus.data_dir, known=dict.fromkeys(r.department for r in records))
    return dataclasses.replace(corpus, records=tuple(records), directory=directory, version=f"synthetic-{rows}")


def stand_in_dense(corpus: Corpus) -> Any:
    """An exact cosine over one stand-in vector per row, as the snapshot scores dense matches."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(corpus.records), 384), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = [(r.source, r.line) for r in corpus.records]

    def dense(query: str, k: int, filters: dict[str, Any] | None = None) -> list[Any]:
        q = vectors[hash(query) % len(vectors)]
        scores = vectors @ q
        top = np.argpartition(-scores, k)[:k]
        return [SimpleNamespace(metadata={"source": keys[i][0], "line": keys[i][1]}, score=float(scores[i]))
                for i in top]

    return dense


class DenseOnly:
    """Search tools for the synthetic corpus: no retrieval for content lookups, the stand-in for set scans."""

    def __init__(self, corpus: Corpus):
        self.dense = stand_in_dense(corpus)

    def __call__(self) -> tuple[Any, Any, Any]:
        import jieba

        jieba.setLogLevel(60)
        return self.dense, lambda text: list(jieba.cut(text)), self.dense


def bundled(rounds: int) -> None:
    from assistant.service import Service
    from assistant.settings import Settings
    from index.clients import chroma_client

    settings = Settings()
    service = Service.from_settings(settings.model_copy(update={"collection": "bench_answers"}),
                                    client=chroma_client())
    assistant = service.assistant
    assistant.ask(CONTENT[0])  # build the retrieval stack and the index outside the timings
    by_group = timings(assistant, QUESTIONS, rounds)
    content = timings(assistant, CONTENT, rounds)
    by_group.setdefault("content", []).extend(content.pop("content", []))
    for group, times in content.items():
        by_group[group].extend(times)
    report(f"bundled data: {len(assistant.corpus.records)} rows, {rounds} rounds per question", by_group, True)


def at_scale(rows: int, rounds: int) -> None:
    from assistant.corpus import load_corpus

    base = load_corpus(ROOT / "data")
    corpus = synthetic(base, rows)
    assistant = Assistant(corpus, make_search=DenseOnly(corpus), lexicon=base.lexicon)
    by_group = timings(assistant, QUESTIONS, rounds)
    report(f"synthetic data: {len(corpus.records):,} rows, {rounds} rounds per question", by_group, True)
    every = timings(assistant, EVERY_YEAR, rounds)
    report(f"synthetic data, asked over every year (历年: {len(EVERY_YEAR)} questions; no floor, see EVERY_YEAR)",
           every, False)


def cold(runs: int) -> None:
    cli = [str(Path(sys.executable).parent / "review-assistant"), "ask", "--json", "卫健委得分多少?"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cli, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
        assert done.returncode == 0 and "132.98" in done.stdout, done.stderr
    print(f"\ncold `review-assistant ask` (facts): median {statistics.median(times):.2f} s, max {max(times):.2f} s "
          f"over {len(times)} runs   floor <= 2 s {'ok' if statistics.median(times) <= 2 else 'NOT MET'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--only", default="bundled,synthetic,cold")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if "bundled" in only:
        bundled(args.rounds)
    if "synthetic" in only:
        at_scale(args.rows, args.rounds)
    if "cold" in only:
        cold(args.cold)


if __name__ == "__main__":
    main()
