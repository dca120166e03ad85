"""The benchmark at a tiny size: its JSON is complete and consistent (no timing is asserted)."""

from __future__ import annotations

import json
import os

import pytest

from tfhub_pooling import cli


def test_bench_document(small_module_path, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert cli.main(["bench", "--handle", small_module_path, "--texts", "24", "--batch-size", "8",
                     "--repeats", "1", "--cold-repeats", "1", "--memory-texts", "20,40",
                     "--out", str(out)]) == 0
    assert "study/bare" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["machine"]["cores"] == os.cpu_count() and doc["machine"]["cpu"]
    e = doc["modules"]["module"]
    assert e["texts"] == 24 and e["hidden"] == 64 and e["batch_size"] == 8
    for section in ("tokenize", "bare_forward", "study"):
        t = e[section]
        assert 0 < t["min_s"] <= t["median_s"] <= t["max_s"] and t["repeats"] == 1
        assert t["texts_per_s"] == pytest.approx(24 / t["median_s"])
    assert e["study_vs_bare_throughput"] == pytest.approx(
        e["bare_forward"]["median_s"] / e["study"]["median_s"])
    p = e["padding"]
    assert p["bucketed"] == e["bare_forward"]
    assert e["padded_tokens"]["fixed_128"] == 24 * 128 > e["padded_tokens"]["bucketed"] >= e["tokens"]
    assert p["max_abs_pooled_change"] <= 1e-5          # padding changes nothing
    c = e["cold_start"]
    assert c["verify_vs_bare"] == pytest.approx(c["verify"]["median_s"] / c["import_load_forward"]["median_s"])
    m = doc["memory"]
    assert m["texts"] == [20, 40] and len(m["peak_rss_mb"]) == 2
    assert m["growth_mb"] == pytest.approx(m["peak_rss_mb"][1] - m["peak_rss_mb"][0])
    assert all(v > 50 for v in m["peak_rss_mb"])      # a TensorFlow process, really measured
    assert doc["peak_rss_mb_verify_default"] > 50
