"""The benchmark (benchmarks/bench.py) at a tiny size: its JSON is complete and consistent
(no timing is asserted). A tier of its own, `make test-bench`: it runs whole processes."""

from __future__ import annotations

import json
import os

import pytest

from benchmarks import bench

pytestmark = pytest.mark.bench


def test_bench_document(small_module_path, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--handle", small_module_path, "--texts", "24", "--batch-size", "8",
                       "--repeats", "1", "--cold-repeats", "1", "--memory-texts", "20,40",
                       "--race", "16", "--race-rounds", "1", "--out", str(out)]) == 0
    assert "study/bare" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["machine"]["cores"] == os.cpu_count() and doc["machine"]["cpu"]
    e = doc["modules"]["module"]
    assert e["texts"] == 24 and e["hidden"] == 64 and e["batch_size"] == 8
    assert set(doc["machine"]["cpu_flags"]) <= {"avx2", "avx512f", "avx512_vnni", "amx_tile"}
    for section in ("tokenize", "bare_forward", "study"):
        t = e[section]
        assert 0 < t["min_s"] <= t["median_s"] <= t["max_s"] and t["repeats"] == 1 and t["runs_s"] == [t["median_s"]]
    # One round: the ratio is that round's own two passes.
    assert e["study_vs_bare_throughput"] == e["bare_forward"]["runs_s"][0] / e["study"]["runs_s"][0]
    p = e["padding"]
    assert p["bucketed"] == e["bare_forward"]
    f = e["in_flight"]
    assert f["batches"] == 2 and f["one_at_a_time"]["repeats"] == 1 and f["speedup"] > 0
    assert f["max_abs_pooled_change"] == 0.0            # running batches at once changes no bit
    assert e["padded_tokens"]["fixed_128"] == 24 * 128 > e["padded_tokens"]["bucketed"] >= e["tokens"]
    assert p["max_abs_pooled_change"] <= 1e-5          # padding changes nothing
    c = e["cold_start"]
    assert c["verify"]["median_s"] > 0 and c["import_load_forward"]["median_s"] > 0
    assert c["verify_keras3"]["repeats"] == 1 and isinstance(c["tf_keras_saves_s"], float)
    m = doc["memory"]
    assert m["texts"] == [20, 40] and len(m["peak_rss_mb"]) == 2
    assert all(v > 50 for v in m["peak_rss_mb"])      # a TensorFlow process, really measured
    assert doc["peak_rss_mb_verify_default"] > 50
    assert all(rate > 0 for rate in doc["machine"]["matmul_gflops"].values()) and e["gflops_bare_forward"] > 0
    race = doc["race"]["sizes"]["16"]
    assert set(race["study_speedup"]) == {"official"} and race["study_speedup"]["official"] > 0
    assert race["study"]["runs_s"] and race["study_with_teardown"]["runs_s"] and race["study_onednn_off"]["runs_s"]
    assert isinstance(race["teardown_s"], float) and isinstance(race["onednn_saves_s"], float)
    official = race["official"]
    assert official["padded_tokens"] == 16 * 128          # the preprocessing model pads every text to 128
    assert set(official["phases_median_s"]) == {"import_s", "load_s", "forward_s"}
    assert sum(official["phases_median_s"].values()) < official["median_s"]   # phases lie inside the process


def test_race_refuses_a_python_without_torch(tmp_path, small_module_path, capsys):
    import sys
    assert bench.main(["--handle", small_module_path, "--texts", "8", "--repeats", "1",
                       "--cold-repeats", "0", "--memory-texts", "0", "--race", "8", "--hf-python", sys.executable,
                       "--out", str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --hf-python {sys.executable} cannot import torch and transformers; give a Python "
                   "that has both (they are no dependency of this project)"]
    assert not (tmp_path / "b.json").exists()


def test_bench_on_a_module_with_no_pooler_weights(tmp_path, small_hf_dir, capsys):
    from tfhub_pooling.builder import build, sources
    from tfhub_pooling.builder.controls import Control
    path = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "m"),
                              control=Control("hidden-weights"))
    assert bench.main(["--handle", path, "--texts", "16", "--batch-size", "8", "--repeats", "1",
                       "--cold-repeats", "0", "--memory-texts", "0", "--race", "0",
                       "--out", str(tmp_path / "b.json")]) == 0
    assert json.loads((tmp_path / "b.json").read_text())["modules"]["module"]["hidden"] == 64


def test_bench_out_that_is_a_directory(tmp_path, capsys):
    assert bench.main(["--out", str(tmp_path), "--sizes", "minilm"]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_bench_negative_cold_repeats():
    with pytest.raises(SystemExit) as e:
        bench.main(["--cold-repeats", "-2"])
    assert e.value.code == 2
