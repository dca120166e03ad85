#!/usr/bin/env python3
"""Thin entry: `scripts/bench.py [args]` == `python -m tfhub_pooling bench [args]`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tfhub_pooling.cli import main  # noqa: E402

sys.exit(main(["bench", *sys.argv[1:]]))
