#!/usr/bin/env python3
"""Thin entry: `scripts/build_module.py [args]` == `tfhub-pooling build [args]`
(the package installed, as `make` does)."""
import sys

from tfhub_pooling.cli import main

sys.exit(main(["build", *sys.argv[1:]]))
