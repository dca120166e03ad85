"""The command line: exit codes, JSON, arrays, and one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tfhub_pooling import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args):
    """A real process: what a user or CI sees, stderr included."""
    return subprocess.run([sys.executable, "-m", "tfhub_pooling", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_verify_default_in_a_process(default_module_path):
    p = run_cli("verify")
    assert p.returncode == 0, p.stderr
    assert "MATCHES_POOLER" in p.stdout
    assert "bert/pooler/dense/kernel [384, 384]" in p.stdout
    assert p.stderr == ""     # TensorFlow's start-up chatter is kept off the terminal


def test_unreachable_url_in_a_process():
    # .invalid never resolves (RFC 6761), whether or not this machine has a network.
    p = run_cli("verify", "--handle", "https://tfhub.invalid/google/bert_uncased_L-12_H-768_A-12/1")
    assert p.returncode == 3
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot fetch")
    assert "Traceback" not in p.stderr


def test_json_document(default_module_path, capsys):
    assert cli.main(["verify", "--json", "--text", "Hello there.",
                     "--text", "First part.", "--pair", "Second part."]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"schema_version", "module", "inputs", "pooler", "texts", "metrics",
            "tolerance", "verdict", "exit_code"} <= set(doc)
    assert doc["verdict"] == "MATCHES_POOLER" and doc["module"]["format"] == "tf1-hub"
    assert doc["module"]["signature"] == "tokens" and doc["module"]["graph_variant"] == "set()"
    assert doc["pooler"]["kernel"] == {"name": "bert/pooler/dense/kernel", "shape": [384, 384], "dtype": "float32"}
    assert doc["texts"][1]["text"] == ["First part.", "Second part."]
    assert doc["texts"][0]["token_count"] == 5
    assert doc["metrics"]["pooled_vs_cls"]["max_abs_diff"] > 0.1
    assert doc["metrics"]["pooled_vs_rebuilt"]["max_abs_diff"] <= doc["tolerance"]["max"]


def test_save_arrays(default_module_path, tmp_path, capsys):
    out = tmp_path / "arrays.npz"
    assert cli.main(["verify", "--text", "Hi.", "--save-arrays", str(out)]) == 0
    arrays = np.load(out)
    assert set(arrays.files) == {"input_ids", "input_mask", "segment_ids", "pooled_output",
                                 "sequence_output", "rebuilt"}
    assert arrays["input_ids"].tolist() == [[101, 7632, 1012, 102]]
    assert arrays["sequence_output"].shape == (1, 4, 384)
    assert os.listdir(tmp_path) == ["arrays.npz"]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(out).st_mode & 0o777 == 0o666 & ~umask    # not mkstemp's 0600


@pytest.mark.parametrize("args, code, message", [
    (["verify", "--handle", "/no/such/module"], 3, "does not exist"),
    (["verify", "--handle", ROOT], 4, "no saved_model.pb"),
    (["verify", "--handle", os.path.join(ROOT, "requirements.txt")], 4, "is a file"),
    (["verify", "--text", "  "], 2, "empty"),
    (["verify", "--save-arrays", "/no/such/dir/a.npz"], 2, "directory does not exist"),
])
def test_errors_are_one_line_with_their_code(args, code, message, capsys):
    assert cli.main(args) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]


def test_pair_without_text_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["verify", "--pair", "orphan"])
    assert e.value.code == 2


def test_build_command(tmp_path, capsys):
    dest = tmp_path / "tiny"
    assert cli.main(["build", str(dest), "--random", "--layers", "1", "--hidden", "32",
                     "--heads", "2"]) == 0
    assert "built tf1-hub module" in capsys.readouterr().out
    assert cli.main(["verify", "--handle", str(dest), "--text", "Hi."]) == 0


def test_docs_list_every_exit_code_and_no_other():
    from pathlib import Path

    from tfhub_pooling import errors

    doc = (Path(__file__).parents[1] / "docs" / "errors.md").read_text(encoding="utf-8")
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", doc, flags=re.M)}
    assert documented == set(errors.exit_codes())
    raised = {cls.exit_code for cls in errors.StudyError.__subclasses__()}
    assert raised <= set(errors.exit_codes())


def test_verify_help_lists_every_exit_code(capsys):
    from tfhub_pooling import errors

    with pytest.raises(SystemExit) as e:
        cli.main(["verify", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for code, meaning in errors.exit_codes().items():
        assert re.search(rf"^ +{code}  {re.escape(meaning)}$", out, flags=re.M), code


def test_the_ci_example_is_a_workflow_whose_commands_exist(pytestconfig):
    """docs/ci-example.yml parses as YAML; every tfhub-pooling and pytest option it uses is
    one the CLI and the plugin define, and the upload keeps the JUnit file pytest writes."""
    import shlex
    from pathlib import Path

    import yaml

    doc = yaml.safe_load((Path(ROOT) / "docs" / "ci-example.yml").read_text(encoding="utf-8"))
    steps = doc["jobs"]["pooler"]["steps"]
    runs = [shlex.split(s["run"].replace(">>", " ")) for s in steps if "run" in s]
    ours = [r for r in runs if r[0] == "tfhub-pooling"]
    assert ours
    for words in ours:
        args = [w for w in words[1:] if not w.startswith("$")]
        assert cli.parser().parse_args(args).command == "verify"
    pytest_runs = [r for r in runs if r[0] == "pytest"]
    assert pytest_runs
    for words in pytest_runs:
        for w in words[1:]:
            if w.startswith("--pooler"):     # an option the plugin registered: getoption knows it
                pytestconfig.getoption(w.split("=", 1)[0].lstrip("-").replace("-", "_"))
    junit = next(w.split("=", 1)[1] for r in pytest_runs for w in r if w.startswith("--junitxml="))
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["with"]["path"] == junit and uploads[0]["if"] == "always()"
    summary = next(s for s in steps if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
    assert summary["if"] == "always()"
