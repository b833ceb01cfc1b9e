"""Chinese (and English) tokens for BM25: jieba, with domain words (department names) as a user dictionary.

Loading jieba's prefix dictionary (about 500,000 entries, from its marshal cache) takes 0.4 to 0.8 s here,
more than the rest of a cold CLI question's BM25. A question needs only the entries for its own substrings,
so the first few texts are cut with the dictionary read from an on-disk copy (SQLite, one lookup per
substring, remembered); past that, the full dictionary is loaded (bulk tokenizing at `index` time). Both
paths run jieba's own code over the same entries and the same total, so the tokens are the same.

The full dictionary is read once per process: every later tokenizer (a new published version's index, another
index in the same process) starts from a copy of its entries (about 20 ms) instead of reading it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jieba

SKIP = re.compile(r"^[\s\W_]+$", re.UNICODE)
HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
VERSION = 2  # bump when tokens change: stored tokens of another version are recomputed
STOP = {"的", "了", "和", "与", "及", "是", "在", "有", "多少", "哪些", "什么", "几", "吗", "呢",
        "the", "of", "a", "an", "is", "what", "which", "how", "many", "much"}
QUICK_TEXTS = 64  # texts cut with the on-disk dictionary before the full one is loaded
USER_FREQ = 200000
_ABSENT = -1


def dictionary_copy_path(folder: Path | None = None) -> Path:
    """The on-disk copy of jieba's default prefix dictionary, named by the dictionary file it comes from."""
    source = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
    try:
        stat = source.stat()
        key = f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{jieba.__version__}:{USER_FREQ}"
    except OSError:
        key = "unknown"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return (folder or Path(tempfile.gettempdir())) / f"jieba-prefix-{digest}.sqlite3"


def save_dictionary_copy(freq: dict[str, int], total: int, where: Path) -> None:
    """Write (word, frequency) and the total to `where`, atomically; an existing copy is kept."""
    if where.exists():
        return
    with contextlib.suppress(OSError, sqlite3.Error):
        where.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{where.name}-", dir=where.parent)
        os.close(fd)
        try:
            with contextlib.closing(sqlite3.connect(name)) as db:
                db.execute("PRAGMA journal_mode=OFF")
                db.execute("CREATE TABLE freq (word TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID")
                db.execute("CREATE TABLE meta (total INTEGER)")
                db.executemany("INSERT INTO freq VALUES (?, ?)", freq.items())
                db.execute("INSERT INTO meta VALUES (?)", (total,))
                db.commit()
            os.replace(name, where)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)


class DiskFrequencies:
    """jieba's FREQ mapping, read entry by entry from the on-disk copy; words added here stay in memory."""

    def __init__(self, where: Path):
        self._db = sqlite3.connect(f"file:{where}?mode=ro", uri=True, check_same_thread=False)
        self._db_lock = threading.Lock()
        self._known: dict[str, int] = {}  # looked up (or added) entries; _ABSENT when not in the dictionary
        row = self._db.execute("SELECT total FROM meta").fetchone()
        self.total = int(row[0])

    def _lookup(self, word: str) -> int:
        found = self._known.get(word)
        if found is None:
            with self._db_lock:
                row = self._db.execute("SELECT n FROM freq WHERE word = ?", (word,)).fetchone()
            found = _ABSENT if row is None else int(row[0])
            self._known[word] = found
        return found

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._lookup(word) != _ABSENT

    def __getitem__(self, word: str) -> int:
        found = self._lookup(word)
        if found == _ABSENT:
            raise KeyError(word)
        return found

    def get(self, word: str, default: Any = None) -> Any:
        found = self._lookup(word)
        return default if found == _ABSENT else found

    def __setitem__(self, word: str, n: int) -> None:
        self._known[word] = n

    def __iter__(self) -> Iterator[str]:  # jieba never iterates FREQ; a mapping should still say so
        raise TypeError("DiskFrequencies is not iterable")


def quick_jieba(where: Path) -> jieba.Tokenizer | None:
    """A jieba tokenizer over the on-disk copy, or None when there is none (yet)."""
    try:
        freq = DiskFrequencies(where)
    except (OSError, sqlite3.Error, TypeError):
        return None
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = freq
    tokenizer.total = freq.total
    tokenizer.initialized = True
    return tokenizer


_DEFAULT: tuple[dict[str, int], int] | None = None  # jieba's default dictionary (entries, total), once read
_DEFAULT_LOCK = threading.Lock()


def full_jieba() -> jieba.Tokenizer:
    """A jieba tokenizer over the whole default dictionary, its entries its own (user words added to it stay in
    it): the dictionary is read on the first call in this process, and copied on the later ones."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            loaded = jieba.Tokenizer()
            loaded.initialize()
            _DEFAULT = (loaded.FREQ, loaded.total)
        entries, total = _DEFAULT
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dict(entries)
    tokenizer.total = total
    tokenizer.initialized = True
    return tokenizer


class JiebaTokenizer:
    """Its own jieba instance, so user words of one index never leak into another."""

    def __init__(self, user_words: Iterable[str] = (), dictionary_copy: Path | None = None,
                 quick_texts: int = QUICK_TEXTS):
        jieba.setLogLevel(logging.WARNING)
        self.user_words = sorted(set(user_words))
        self.dictionary_copy = dictionary_copy or dictionary_copy_path()
        self._full: jieba.Tokenizer | None = None
        self._quick: jieba.Tokenizer | None = None
        self._quick_tried = False
        self._cut = 0
        self.quick_texts = quick_texts
        self._lock = threading.Lock()

    def _with_words(self, tokenizer: jieba.Tokenizer) -> jieba.Tokenizer:
        for word in self.user_words:
            tokenizer.add_word(word, freq=USER_FREQ)
        return tokenizer

    def _jieba(self) -> jieba.Tokenizer:
        with self._lock:
            self._cut += 1
            if self._full is None and self._cut <= self.quick_texts:
                if not self._quick_tried:
                    self._quick_tried = True
                    quick = quick_jieba(self.dictionary_copy)
                    self._quick = self._with_words(quick) if quick is not None else None
                if self._quick is not None:
                    return self._quick
            if self._full is None:
                full = full_jieba()
                save_dictionary_copy(full.FREQ, full.total, self.dictionary_copy)  # before the user words
                self._full = self._with_words(full)
                self._quick = None
            return self._full

    @property
    def full_dictionary(self) -> bool:
        """Whether the full dictionary is loaded (else texts were cut with the on-disk copy, or none yet)."""
        return self._full is not None

    def words(self, text: str) -> list[str]:
        """jieba's words of the text, once each cut (no search sub-words, no bigrams): 数字化改革 -> 数字化, 改革."""
        return [t for t in (w.strip().lower() for w in self._jieba().cut(text))
                if t and not SKIP.match(t) and t not in STOP]

    def __call__(self, text: str) -> list[str]:
        """jieba words plus the character bigrams of every run of Chinese characters: jieba cuts the same
        phrase differently in a question and in a row (千人托|位数 against 千人托位), bigrams still meet."""
        words = [t for t in (w.strip().lower() for w in self._jieba().cut_for_search(text))
                 if t and not SKIP.match(t) and t not in STOP]
        bigrams = [run[i : i + 2] for run in HAN_RUN.findall(text) for i in range(len(run) - 1)]
        return words + [b for b in bigrams if b not in STOP]
