#!/usr/bin/env python3
"""Smallest pooler-kernel change the study detects on the embedded default module.

Builds perturbed-control modules from the shipped MiniLM weights at shrinking
amounts for a few kernel elements and verifies each on the default texts.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from benchmarks.sensitivity import main  # noqa: E402

sys.exit(main())
