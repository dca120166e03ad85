#!/usr/bin/env python3
"""Thin entry: `scripts/study.py [OUT.md]` runs the study over every kind of module and
writes the table (default docs/STUDY.md)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from benchmarks.study_table import main  # noqa: E402

sys.exit(main(*sys.argv[1:2]))
