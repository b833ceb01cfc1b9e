"""Chinese (and English) tokens for BM25: jieba, with domain words (department names) as a user dictionary."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import jieba

SKIP = re.compile(r"^[\s\W_]+$", re.UNICODE)
HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
VERSION = 2  # bump when tokens change: stored tokens of another version are recomputed
STOP = {"的", "了", "和", "与", "及", "是", "在", "有", "多少", "哪些", "什么", "几", "吗", "呢",
        "the", "of", "a", "an", "is", "what", "which", "how", "many", "much"}


class JiebaTokenizer:
    """Its own jieba instance, so user words of one index never leak into another."""

    def __init__(self, user_words: Iterable[str] = ()):
        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self.user_words = sorted(set(user_words))
        for word in self.user_words:
            self._jieba.add_word(word, freq=200000)

    def __call__(self, text: str) -> list[str]:
        """jieba words plus the character bigrams of every run of Chinese characters: jieba cuts the same
        phrase differently in a question and in a row (千人托|位数 against 千人托位), bigrams still meet."""
        words = [t for t in (w.strip().lower() for w in self._jieba.cut_for_search(text))
                 if t and not SKIP.match(t) and t not in STOP]
        bigrams = [run[i : i + 2] for run in HAN_RUN.findall(text) for i in range(len(run) - 1)]
        return words + [b for b in bigrams if b not in STOP]
