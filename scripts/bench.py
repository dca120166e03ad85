#!/usr/bin/env python3
"""`scripts/bench.py [args]`: the benchmark (benchmarks/bench.py), a development tool
beside the package rather than inside it; `--help` lists its options."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from benchmarks.bench import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
