"""Quiet by default: the libraries that load the model (transformers, huggingface_hub, sentence-transformers,
tqdm) print progress bars and warnings that do not belong in a server log or on a CLI's stderr.

Called when the model is about to load (never at import); `verbose=True` (the CLI's --verbose,
REVIEW_ASSISTANT_VERBOSE=1) leaves them as they are."""

from __future__ import annotations

import logging
import os
import sys
import warnings

NOISY_LOGGERS = ("transformers", "sentence_transformers", "huggingface_hub", "chromadb", "httpx", "jieba")


def quiet_libraries(verbose: bool = False) -> None:
    if verbose:
        return
    # read by the libraries when they load; a value the user set is kept
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for module in ("transformers", "sentence_transformers", "huggingface_hub", "torch"):
        warnings.filterwarnings("ignore", module=module)
    # already imported (by an earlier caller): set them through their own switches too
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "jieba" in sys.modules:
        import jieba

        jieba.setLogLevel(logging.ERROR)
