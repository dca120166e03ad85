#!/usr/bin/env python3
"""Thin entry: `scripts/bench.py [args]` == `tfhub-pooling bench [args]` (the package installed, as `make` does)."""
import sys

from tfhub_pooling.cli import main

sys.exit(main(["bench", *sys.argv[1:]]))
