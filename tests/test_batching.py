"""Query batching across threads, with the real model: each caller gets its own vector."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from assistant.settings import Settings
from index.batching import BatchingEmbeddings

pytestmark = pytest.mark.slow

QUESTIONS = [
    "卫健委得分多少?", "为农服务网点有多少家?", "2022年全市新增了几家上市公司?", "市级监管企业资产总额是多少?",
    "企业职工养老保险参保人数达到多少?", "湖州银行普惠小微贷款新增多少?", "残联计划开展儿童康复救助多少人?",
    "2023年计划腾出多少亩低效用地?", "服务业增加值的年度目标是多少?", "Which departments exceeded their targets?",
    "What is the final score of the water bureau?", "绿色金融改革创新", "外贸企业引育了多少家?", "水利投资",
    "旅游引客增流计划", "科技创新指数排名", "高校毕业生就业", "农村公路提档升级", "防汛防台零伤亡",
    "出口增长", "公租房保障", "红十字救护培训", "文化礼堂建设", "低效用地再开发",
]


@pytest.fixture(scope="module")
def model():
    from index.embeddings import load_any

    settings = Settings()
    return load_any(settings.embedding_model, settings.models_path, backend="onnx")


def ask_all(batcher: BatchingEmbeddings, questions: list[str]) -> dict[int, list[float]]:
    results: dict[int, list[float]] = {}
    start = threading.Barrier(len(questions))

    def one(n: int) -> None:
        start.wait()
        results[n] = batcher.embed_query(questions[n])

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_concurrent_queries_share_calls_and_each_gets_its_own_vector(model):
    batcher = BatchingEmbeddings(model, window_ms=20, max_batch=8, cache_size=0)
    questions = QUESTIONS * 2  # duplicates in one round are embedded once, answered to both callers
    results = ask_all(batcher, questions)
    assert sorted(results) == list(range(len(questions)))
    alone = np.asarray([model.embed_query(q) for q in QUESTIONS])
    got = np.asarray([results[n] for n in range(len(questions))])
    cosines = (got * np.vstack([alone, alone])).sum(axis=1)
    assert cosines.min() >= 0.99999, cosines.min()
    assert batcher.calls < len(QUESTIONS)  # batched: fewer model calls than distinct questions
    assert batcher.calls >= len(QUESTIONS) // 8


def test_recent_queries_come_from_the_cache(model):
    batcher = BatchingEmbeddings(model, window_ms=0, cache_size=2)
    first = batcher.embed_query(QUESTIONS[0])
    assert batcher.embed_query(QUESTIONS[0]) == first and batcher.calls == 1
    batcher.embed_query(QUESTIONS[1])
    batcher.embed_query(QUESTIONS[2])  # the oldest (QUESTIONS[0]) leaves the cache
    batcher.embed_query(QUESTIONS[0])
    assert batcher.calls == 4


def test_a_failing_model_fails_each_caller_and_the_batcher_goes_on(model):
    class Flaky:
        def __init__(self) -> None:
            self.fail = True

        def encode_queries(self, texts):
            if self.fail:
                raise RuntimeError("model failed")
            return model.encode_queries(texts)

    flaky = Flaky()
    batcher = BatchingEmbeddings(flaky, window_ms=0)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="model failed"):
        batcher.embed_query("一")
    flaky.fail = False
    assert len(batcher.embed_query("一")) == 384
