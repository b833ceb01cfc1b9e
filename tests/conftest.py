from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.corpus import Corpus, load_corpus
from assistant.records import Commitment

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
OUTCOMES = "000_7fc1be17f2f87087.txt"
TARGETS = "002_54d987597a722985.txt"


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(DATA)


@pytest.fixture(scope="session")
def records(corpus: Corpus) -> tuple[Commitment, ...]:
    return corpus.records


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of data/, for tests that change or break it."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def record(records: tuple[Commitment, ...], department: str, item: int, year: int = 2022) -> Commitment:
    return next(r for r in records if r.department == department and r.item == item and r.year == year)
