#!/usr/bin/env python3
"""Thin entry: `scripts/study.py [OUT.md]` runs the study over every kind of module and
writes the table (default docs/STUDY.md)."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tfhub_pooling.tools.study_table import main  # noqa: E402

sys.exit(main(*sys.argv[1:2]))
