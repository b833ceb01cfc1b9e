"""The package's shape: the layers import only downwards, and a wheel built from the tree carries the templates
and the data of the default run, and answers from any directory."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


def imports(path: Path) -> list[tuple[str, int, str | None]]:
    """(module, line, enclosing function) of every import in a file."""
    found: list[tuple[str, int, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, function) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                found.append((child.module, child.lineno, function))
            visit(child, name)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).glob("*.py")):
        for module, line, function in imports(path):
            if module.split(".")[0] in forbidden and (path.name, function) != ("cli.py", "serve"):
                bad.append(f"{package}/{path.name}:{line} imports {module}")
    return bad


def test_layers_import_only_downwards():
    """api -> assistant -> index: index/ knows nothing of the domain or the service; assistant/ nothing of the
    HTTP layer, except the CLI's `serve`, which starts it."""
    assert offending("index", ("assistant", "api")) == []
    assert offending("assistant", ("api",)) == []
    assert ("api.app", "serve") in {(m, f) for m, _, f in imports(ROOT / "assistant" / "cli.py")}  # the scan sees it


@pytest.mark.slow
def test_a_wheel_built_from_the_tree_answers_from_any_directory(tmp_path):
    """Built from a copy of the tree (the build writes build/ and egg-info beside its sources), unpacked, and run
    with the unpacked wheel first on the path, from a folder that is not the repository, on no data setting."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("assistant", "index", "api", "prompts", "data"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("review_assistant-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    prompts = ROOT / "prompts"
    templates = {f"assistant/prompts/{p.relative_to(prompts).as_posix()}" for p in prompts.rglob("*")
                 if p.suffix in (".j2", ".toml")}
    assert "assistant/prompts/ops/value.j2" in templates and "assistant/prompts/ingest_errors.toml" in templates
    data = {f"assistant/bundled_data/{p.name}" for p in (ROOT / "data").iterdir() if p.suffix in (".txt", ".toml")}
    assert templates and templates <= names
    assert {"assistant/bundled_data/sources.toml", "assistant/bundled_data/lexicon.toml"} <= data <= names
    assert "api/static/index.html" in names

    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_ASSISTANT_DATA")}
    env |= {"PYTHONPATH": str(site), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    env.pop("REVIEW_ASSISTANT_VAR_DIR", None)  # the default: a per-user folder, not a repository's var/
    code = ("import sys, assistant\nfrom assistant.settings import Settings\n"
            "print(assistant.__file__, Settings().data_dir, Settings().var_dir, sep='\\n')\n"
            "from assistant.cli import main\n"
            "sys.argv = ['review-assistant', 'ask', '--json', '卫健委得分多少?']\nmain()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=elsewhere, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    package, data_dir, var_dir, *answer = done.stdout.splitlines()
    assert package == str(site / "assistant" / "__init__.py")
    assert data_dir == str(site / "assistant" / "bundled_data")
    assert var_dir == str(tmp_path / "xdg" / "review-assistant")
    body = json.loads("\n".join(answer))
    assert "132.98" in body["answer"] and body["mode"] == "facts", body["answer"]  # rendered from ops/value.j2
    assert body["citations"][0]["source"] == "000_7fc1be17f2f87087.txt"
    bad = elsewhere / "2022_bad.txt"  # ingest's messages come from the wheel's prompts/ingest_errors.toml
    bad.write_text("部门\t承诺事项\t兑现情况\t最终得分\t类别内排名\n市甲局\t1.一\t完成\t129,86\t1\n", encoding="utf-8")
    check = subprocess.run([sys.executable, "-c", "import sys\nfrom assistant.cli import main\n"
                            f"sys.argv = ['review-assistant', 'ingest', '--check', {str(bad)!r}]\nmain()"],
                           capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120)
    assert check.returncode == 1 and "decimal comma" in check.stderr and "Traceback" not in check.stderr, check.stderr
