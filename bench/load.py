"""Load: 20 concurrent clients and at least 2,000 requests against a real server on 127.0.0.1, mixing facts
and retrieval questions over /api/ask and /v1/chat/completions. Prints throughput, p50/p95/p99 and errors.

Run: .venv/bin/python bench/load.py [--clients 20] [--requests 2000] [--url http://127.0.0.1:8000]
Without --url it starts `review-assistant serve` on a free port and stops it at the end.
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
FACTS = ["卫健委得分多少?", "市金融办在经济建设类排名第几?", "社会发展类中得分最低的部门是哪个?",
         "经济建设类中得分低于120分的部门有哪些?", "社会发展类的平均得分是多少?", "哪几个部门的难度系数低于1.12?",
         "哪些部门超额完成了目标?", "市公安局的评定难度系数是多少?"]
RETRIEVAL = ["2022年全市新增了几家上市公司?", "市级监管企业资产总额是多少?", "为农服务网点有多少家?",
             "企业职工养老保险参保人数达到多少?", "湖州银行普惠小微贷款新增多少?", "残联计划开展儿童康复救助多少人?",
             "2023年计划腾出多少亩低效用地?", "服务业增加值的年度目标是多少?"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def models_dir() -> Path:
    sys.path.insert(0, str(ROOT))
    from assistant.settings import Settings

    return Settings().models_path


def start(var: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "REVIEW_ASSISTANT_VAR_DIR": str(var),
           "REVIEW_ASSISTANT_MODELS_DIR": os.environ.get("REVIEW_ASSISTANT_MODELS_DIR") or str(models_dir())}
    extra = ["--workers", str(workers)] if workers > 1 else []
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(port),
                             *extra],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("load tests talk only to this machine (127.0.0.1)")
    tmp = tempfile.TemporaryDirectory()
    proc, url = (None, args.url) if args.url else start(Path(tmp.name))
    jobs = list(itertools.islice(itertools.cycle(
        [(kind, q) for pair in zip(FACTS, RETRIEVAL, strict=True) for kind, q in zip(("facts", "retrieval"), pair,
                                                                                     strict=True)]),
        args.requests))
    lock = threading.Lock()
    cursor = iter(enumerate(jobs))
    latencies: dict[str, list[float]] = {"facts": [], "retrieval": []}
    errors: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while True:
                with lock:
                    item = next(cursor, None)
                if item is None:
                    return
                n, (kind, question) = item
                start = time.perf_counter()
                try:
                    if n % 2:
                        messages = [{"role": "user", "content": question}]
                        r = http.post("/v1/chat/completions", json={"model": "review-assistant", "messages": messages})
                        ok = r.status_code == 200 and r.json()["choices"][0]["message"]["content"]
                    else:
                        r = http.post("/api/ask", json={"question": question})
                        ok = r.status_code == 200 and r.json()["answer"]
                    if not ok:
                        raise RuntimeError(f"HTTP {r.status_code}")
                except Exception as exc:  # counted, never hidden
                    with lock:
                        errors.append(f"{question}: {exc}")
                    continue
                with lock:
                    latencies[kind].append((time.perf_counter() - start) * 1000)

    try:
        for q in FACTS + RETRIEVAL:  # warm up
            httpx.post(url + "/api/ask", json={"question": q}, timeout=120)
        began = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        tmp.cleanup()

    every = sorted(latencies["facts"] + latencies["retrieval"])

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))] if ordered else float("nan")

    print(f"{len(every) + len(errors)} requests from {args.clients} concurrent clients in {elapsed:.1f}s: "
          f"{len(every) / elapsed:.1f} requests/s, errors {len(errors)}")
    for label, values in (("all", every), ("facts", latencies["facts"]), ("retrieval", latencies["retrieval"])):
        print(f"{label:9} p50 {statistics.median(values):7.1f} ms  p95 {pct(values, 0.95):7.1f} ms  "
              f"p99 {pct(values, 0.99):7.1f} ms  (n={len(values)})")
    for e in errors[:5]:
        print("error:", e)
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
