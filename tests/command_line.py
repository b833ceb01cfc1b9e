"""Running `review-assistant` from a test: in this process through typer's runner on the real app (`invoke`), or
as a real process (`spawn`) where the process itself is what is tested: what a fresh interpreter imports, what
it prints on stderr, a server that refuses to start. Both return a `Done` with the exit code and the output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@contextmanager
def wide_consoles(width: int = 200) -> Iterator[None]:
    """The CLI's rich consoles at `width` columns while a command runs in this process. Their width is fixed when
    `assistant.cli` is imported, from COLUMNS then (pytest-xdist's workers set COLUMNS=80), so CliRunner's env
    cannot change it; a real process reads its own COLUMNS."""
    from rich.console import Console

    import assistant.cli as cli

    kept = cli.console, cli.errors
    cli.console, cli.errors = Console(width=width), Console(stderr=True, width=width)
    try:
        yield
    finally:
        cli.console, cli.errors = kept


def invoke(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
           keep_settings: bool = False) -> Done:
    """`review-assistant ARGS` in this process. `env` (REVIEW_ASSISTANT_* and the like) is set only while the
    command runs, and the cached settings are read anew before and dropped after, so the command sees `env` and
    leaves nothing behind (`keep_settings`: the settings the command made stay cached, for a test of what it set).
    An exception the CLI did not turn into an `error:` line is raised here, as the traceback a real process would
    print."""
    from typer.testing import CliRunner

    from assistant.cli import app
    from assistant.settings import get_settings

    get_settings.cache_clear()
    try:
        with wide_consoles():
            result = CliRunner(env=env).invoke(app, list(args), input=stdin, prog_name="review-assistant")
    finally:
        if not keep_settings:
            get_settings.cache_clear()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result.exit_code, result.stdout, result.stderr)


def spawn(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
          timeout: float = 120) -> Done:
    """`python -m assistant ARGS` as a real process, with this process's environment plus `env`, and the
    worktree's code (cwd and PYTHONPATH at the repository's root)."""
    environment = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT), **(env or {})}
    done = subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, cwd=ROOT,
                          env=environment, input=stdin, timeout=timeout)
    return Done(done.returncode, done.stdout, done.stderr)
