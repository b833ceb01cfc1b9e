"""Scoring answers against a question set (the same rules as the shared scorer): strings that must or
must not appear, refusals, gold rows among the citations, and numbers no cited row or fact supports."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from assistant.corpus import Corpus

REFUSE = ["未找到", "没有找到", "不包含", "没有相关", "未收录", "无相关", "不在", "没有该", "无法回答",
          "暂无", "没有2021", "无2021", "未查询到", "查无", "not found", "no data", "does not contain",
          "没有关于", "未包含", "没有这", "没有此", "不存在"]
NUM = re.compile(r"\d+(?:\.\d+)?")


def norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s or "")).lower()


@dataclass
class Evaluation:
    total: int = 0
    passed: int = 0
    gold: int = 0
    cited: int = 0
    unsupported: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)


def _seed_source(corpus: Corpus, seed: str) -> str:
    return next(s.name for s in corpus.sources if s.name.startswith(seed + "_"))


def evaluate(question_set: dict[str, Any], assistant: Any, corpus: Corpus) -> Evaluation:
    result = Evaluation()
    lines = {s.name: s.path.read_text(encoding="utf-8").split("\n") for s in corpus.sources if s.path.suffix == ".txt"}
    for q in question_set["questions"]:
        answer = assistant.ask(q["q"]).to_json()
        result.answers.append(answer)
        text = norm(answer["answer"])
        cited = {(c["source"], c["line"]) for c in answer["citations"]}
        cited_text = [lines.get(s, [""] * (n + 1))[n - 1].strip() for s, n in cited if s in lines]
        why = [f"missing {s}" for s in q.get("all", []) if norm(s) not in text]
        why += [f"missing one of {alts}" for alts in q.get("any", []) if not any(norm(s) in text for s in alts)]
        why += [f"has {s}" for s in q.get("none", []) if norm(s) in text]
        if q.get("refuse") and not any(norm(m) in text for m in REFUSE):
            why.append("did not refuse")
        for seed, line in q.get("cite", []):
            result.gold += 1
            if (_seed_source(corpus, seed), line) in cited:
                result.cited += 1
            else:
                why.append(f"uncited {seed}:{line}")
        support = norm(" ".join(cited_text) + q["q"] + json.dumps(answer["facts"], ensure_ascii=False))
        for n in set(NUM.findall(unicodedata.normalize("NFKC", answer["answer"]))):
            if n not in support and len(n.replace(".", "")) >= 2:
                result.unsupported += 1
                why.append(f"unsupported number {n}")
        ok = not [w for w in why if not w.startswith("unsupported")]
        result.total += 1
        result.passed += ok
        kind = result.by_kind.setdefault(q["kind"], [0, 0])
        kind[0] += ok
        kind[1] += 1
        if why:  # a passing question may still carry notes (a number the scorer does not find in the rows)
            result.failures.append(f"{'FAIL' if not ok else 'NOTE'} {q.get('id', '')} {q['q']} -> {'; '.join(why)}")
    return result
