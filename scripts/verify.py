#!/usr/bin/env python3
"""Thin entry: `scripts/verify.py [args]` == `tfhub-pooling verify [args]` (the package installed, as `make` does)."""
import sys

from tfhub_pooling.cli import main

sys.exit(main(["verify", *sys.argv[1:]]))
