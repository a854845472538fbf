"""The README and docs pages: their Python blocks and `connexc` command lines run,
and the reference names every public function and every command."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import connexc
from connexc._cli import COMMANDS

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)


def _blocks(page: Path, language: str) -> list[str]:
    return [body for lang, body in _FENCE.findall(page.read_text()) if lang == language]


def _commands(page: Path) -> list[str]:
    """The `connexc ...` lines of a page's bash blocks, in order."""
    return [
        line.strip()
        for block in _blocks(page, "bash")
        for line in block.splitlines()
        if line.strip().startswith("connexc ")
    ]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch) -> Path:
    """A scratch copy of the examples, so the pages' commands cannot touch the repo."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_blocks_run(page: Path, workdir: Path):
    blocks = _blocks(page, "python")
    if not blocks:
        pytest.skip(f"{page.name} has no python blocks")
    namespace: dict = {"__name__": "__docs__"}
    for number, block in enumerate(blocks, start=1):
        code = compile(block, f"{page.name} python block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - the documentation's own examples


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_command_lines_run(page: Path, workdir: Path):
    commands = _commands(page)
    if not commands:
        pytest.skip(f"{page.name} has no connexc command lines")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for command in commands:
        argv = shlex.split(command, comments=True)
        result = subprocess.run(
            [sys.executable, "-m", "connexc", *argv[1:]],
            capture_output=True,
            text=True,
            env=env,
            cwd=workdir,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stderr}"


def test_reference_names_every_public_function_and_command():
    reference = (ROOT / "docs" / "reference.md").read_text()
    missing = [name for name in connexc.__all__ if f"`{name}" not in reference]
    missing += [
        f"connexc {command}"
        for command in [*COMMANDS, "check"]
        if f"connexc {command}" not in reference
    ]
    assert missing == []


def test_readme_shows_the_committed_picture():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/images/seed.svg)" in readme
