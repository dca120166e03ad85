#!/usr/bin/env python3
"""Smallest pooler-kernel change the study detects on the embedded default module.

Builds perturbed-control modules from the shipped MiniLM weights at shrinking
amounts for a few kernel elements and verifies each on the default texts.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tfhub_pooling.builder import cache, sources  # noqa: E402
from tfhub_pooling.tools import sensitivity  # noqa: E402

w = sources.from_hf_dir(cache.weights_dir())
for r in sensitivity.smallest_detected(w, sensitivity.random_elements(w.config.hidden_size, 5)):
    marks = " ".join(f"{a:g}:{'caught' if c else 'missed'}" for a, c in r["caught"].items())
    print(f"W[{r['row']}, {r['col']}]  smallest detected {r['smallest_detected']}  ({marks})")
