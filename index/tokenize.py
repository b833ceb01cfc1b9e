"""Chinese (and English) tokens for BM25: jieba, with domain words (department names) as a user dictionary."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import jieba

SKIP = re.compile(r"^[\s\W_]+$", re.UNICODE)
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
        return [t for t in (w.strip().lower() for w in self._jieba.cut_for_search(text))
                if t and not SKIP.match(t) and t not in STOP]
