"""The whole-process race: `tfhub-pooling verify --texts-file` against the pipelines users
would pick instead, on the same corpus and the same real MiniLM weights, each a fresh
process from start to exit, taking turns round by round (study, official, hf, study, ...)
so that drift in a shared machine's speed falls on all of them alike.

  study        `python -m tfhub_pooling verify --texts-file F --json` on the embedded default
  official     official_pipeline.py: the builder's preprocessing model (128 long) and TF2 dict
               encoder from the same weights, batches of 32
  hf_pytorch   hf_pipeline.py in --hf-python: BertModel + BertTokenizerFast over the weights'
               own directory (only when that Python has torch and transformers)
               Both scripts report their phases (import, load, forward) and padded tokens, so
               the forward passes compare in tokens a second, apart from start-up.
  teardown     the study again, ending through sys.exit (the interpreter's teardown) instead
               of the command's os._exit: the difference is what the teardown costs
  onednn_off   the study again with TF_ENABLE_ONEDNN_OPTS=0, TensorFlow's default on CPUs
               without AVX512-VNNI or AMX: the difference is what the command's oneDNN
               switch saves (process_env.py)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from tfhub_pooling import process_env
from tfhub_pooling.errors import UsageError

HERE = os.path.dirname(os.path.abspath(__file__))
PIPELINES = ("official", "hf_pytorch")      # the scripts here, which report their phases as JSON
PHASES = ("import_s", "load_s", "forward_s")
WITH_TEARDOWN = ("import sys; from tfhub_pooling import cli, process_env; process_env.prepare(); "
                 "sys.exit(cli.main(sys.argv[1:]))")


def check_hf_python(hf_python: str) -> None:
    proc = subprocess.run([hf_python, "-c", "import torch, transformers"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise UsageError(f"--hf-python {hf_python} cannot import torch and transformers; give a Python "
                         "that has both (they are no dependency of this project)")


def wall(name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds of a child process, start to exit, and its stdout; its failure is one
    line. Every child starts from the user's environment: the study's command sets up its
    own process (process_env.py)."""
    env = process_env.users_environ() | {"TF_CPP_MIN_LOG_LEVEL": "3"} | (extra_env or {})
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"the race's {name} run exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return seconds, proc.stdout


def commands(texts_file: str, hf_python: str | None) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    """name -> (argv, environment beyond the user's own), as bench.cold_start's runs."""
    from tfhub_pooling import provision
    from tfhub_pooling.formats import PREPROCESS, TF2_DICT

    study = [sys.executable, "-m", "tfhub_pooling", "verify", "--texts-file", texts_file, "--json"]
    runs = {
        "study": (study, None),
        "official": ([sys.executable, os.path.join(HERE, "official_pipeline.py"), provision.ensure_default(TF2_DICT),
                      provision.ensure_default(PREPROCESS), texts_file], None),
        "study_with_teardown": ([sys.executable, "-c", WITH_TEARDOWN, "verify", "--texts-file", texts_file,
                                 "--json"], None),
        "study_onednn_off": (study, {process_env.ONEDNN: "0"}),
    }
    if hf_python:
        runs["hf_pytorch"] = ([hf_python, os.path.join(HERE, "hf_pipeline.py"), str(provision.weights_dir()),
                               texts_file], None)
    return runs


def race(corpus_sizes: list[int], rounds: int, hf_python: str | None, write_texts) -> dict:
    """write_texts(path, n): the corpus of n texts. Returns seconds and ratios per size."""
    doc = {"rounds": rounds, "hf_python": hf_python, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="tfhub-pooling-race-") as tmp:
        for n in corpus_sizes:
            path = os.path.join(tmp, f"{n}.txt")
            write_texts(path, n)
            children = commands(path, hf_python)
            wall("study", *children["study"])              # warm-up: modules built, page cache filled
            runs: dict[str, list[float]] = {name: [] for name in children}
            phases: dict[str, list[dict]] = {name: [] for name in PIPELINES if name in children}
            for _ in range(rounds):
                for name, (argv, env) in children.items():
                    seconds, stdout = wall(name, argv, env)
                    runs[name].append(seconds)
                    if name in phases:
                        phases[name].append(json.loads(stdout.strip().splitlines()[-1]))
            entry = {name: {"best_s": min(r), "median_s": statistics.median(r), "runs_s": r}
                     for name, r in runs.items()}
            for name, reports in phases.items():
                entry[name] |= _phases(reports)
            study = entry["study"]["median_s"]
            entry["study_speedup"] = {name: entry[name]["median_s"] / study
                                      for name in PIPELINES if name in entry}
            entry["teardown_s"] = entry["study_with_teardown"]["median_s"] - study
            entry["onednn_saves_s"] = entry["study_onednn_off"]["median_s"] - study
            doc["sizes"][str(n)] = entry
    return doc


def _phases(reports: list[dict]) -> dict:
    """Medians of what a pipeline script reports of its own phases (seconds from its
    first line), and its forward pass in padded tokens a second."""
    med = {key: statistics.median(r[key] for r in reports) for key in PHASES}
    return {"phases_median_s": med, "padded_tokens": reports[0]["padded_tokens"],
            "forward_tokens_per_s": reports[0]["padded_tokens"] / med["forward_s"]}
