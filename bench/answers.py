"""Answer latency: p50/p95 of warm answers without an LLM, for facts and for retrieval questions, and the
cold start of `review-assistant ask` on a facts question (a new process each time).

Run: .venv/bin/python bench/answers.py [--rounds 20] [--cold 10]
Targets on the 2-core machine: facts p95 <= 20 ms, retrieval p95 <= 150 ms, cold facts answer <= 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answers import Assistant  # noqa: E402
from assistant.service import Service  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from index.clients import chroma_client  # noqa: E402

FACTS = ["卫健委得分多少?", "市金融办在经济建设类排名第几?", "社会发展类中得分最低的部门是哪个?",
         "经济建设类中得分低于120分的部门有哪些?", "社会发展类的平均得分是多少?", "哪几个部门的难度系数低于1.12?",
         "哪些部门超额完成了目标?", "请总结市金融办的承诺兑现情况", "市公安局的评定难度系数是多少?",
         "What is the final score of 市城市集团?"]
RETRIEVAL = ["2022年全市新增了几家上市公司?", "市级监管企业资产总额是多少?", "为农服务网点有多少家?",
             "企业职工养老保险参保人数达到多少?", "湖州银行普惠小微贷款新增多少?", "残联计划开展儿童康复救助多少人?",
             "2023年计划腾出多少亩低效用地?", "服务业增加值的年度目标是多少?", "千人托位数达到了多少?",
             "市水利局2022年完成了多少座水库山塘治理,2023年计划水库除险加固几座?"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]


def timed(assistant: Assistant, questions: list[str], rounds: int, expect: set[str]) -> list[float]:
    times = []
    for _ in range(rounds):
        for q in questions:
            start = time.perf_counter()
            answer = assistant.ask(q)
            times.append((time.perf_counter() - start) * 1000)
            assert answer.mode in expect, (q, answer.mode)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cold", type=int, default=10)
    args = parser.parse_args()
    settings = Settings()
    assistant = Service.from_settings(settings.model_copy(update={"collection": "bench_answers"}),
                                      client=chroma_client()).assistant
    assistant.ask(RETRIEVAL[0])  # build the retrieval stack and index outside the timings
    timed(assistant, FACTS + RETRIEVAL, 1, {"facts", "retrieval", "refusal"})  # warm
    for label, questions, modes in (("facts", FACTS, {"facts", "refusal"}), ("retrieval", RETRIEVAL, {"retrieval"})):
        times = timed(assistant, questions, args.rounds, modes)
        print(f"{label:9} answers: p50 {statistics.median(times):6.1f} ms, p95 {percentile(times, 0.95):6.1f} ms, "
              f"max {max(times):6.1f} ms over {len(times)} answers")
    cli = [str(Path(sys.executable).parent / "review-assistant"), "ask", "--json", FACTS[0]]
    cold = []
    for _ in range(args.cold):
        start = time.perf_counter()
        done = subprocess.run(cli, capture_output=True, text=True, cwd=ROOT)
        cold.append(time.perf_counter() - start)
        assert done.returncode == 0 and "132.98" in done.stdout, done.stderr
    print(f"cold `review-assistant ask` (facts): median {statistics.median(cold):.2f} s, "
          f"max {max(cold):.2f} s over {len(cold)} runs")


if __name__ == "__main__":
    main()
