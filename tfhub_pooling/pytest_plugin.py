"""The pytest plugin (entry point `pytest11`): a team's CI checks its exported
modules with no test code of its own.

    pytest --pooler-handle=exports/bert_tf1 --pooler-handle="exports/encoder,preprocess=exports/preprocess"
    pytest --pooler-handle="exports/bert.tflite,vocab=exports/vocab.txt"
    pytest --pooler-handles-file=modules.txt      # one handle a line, same syntax, # comments
    pytest --pooler-compare=exports/bert_tf1::exports/bert.tflite,vocab=vocab.txt   # two models agree

Write each option as one word (`--pooler-handle=PATH`): pytest picks its rootdir before
plugins' options are known, so a path given as a separate word counts as a test path
there, and a handle outside the project moves rootdir and its cache (pytest's own
behaviour for every plugin option).

collects one test per handle (`pooler[HANDLE]`) and per pair (`pooler-compare[A vs B]`,
failing with the first stage where they part); a failure shows the
verdict, the figures and the reason, and pytest's --junitxml carries them to the CI
system. --pooler-no-diagnosis skips the black-box fit on a mismatch. For hand-written
tests, the `pooler_check` fixture runs assert_pooler_matches with the session's loaded
modules cached, so twenty tests on one module load it once; `pooler_check.handles` are
the command line's handles.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pytest

from tfhub_pooling.sides import Side


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tfhub-pooling", "BERT pooler checks (tfhub-pooling)")
    group.addoption("--pooler-handle", action="append", default=[], metavar="HANDLE[,preprocess=HANDLE][,vocab=FILE]",
                    help="check that this module's pooled_output is tanh(cls · W + b) with its stored "
                         "pooler weights; repeatable, one test each")
    group.addoption("--pooler-handles-file", metavar="FILE",
                    help="a file of handles, one a line (same syntax as --pooler-handle; # comments)")
    group.addoption("--pooler-compare", action="append", default=[], metavar="A::B",
                    help="check that two models' pooled outputs agree at every stage (tokenizer, encoder, "
                         "pooler weights, pooler); each side as --pooler-handle writes it, `default` the "
                         "embedded module; repeatable, one test each")
    group.addoption("--pooler-no-diagnosis", action="store_true",
                    help="on a mismatch, skip the black-box fit that names the differing weights "
                         "(it costs seconds to minutes per failing module)")


def pytest_configure(config: pytest.Config) -> None:
    # TensorFlow's C++ logs and tensorflow_hub's pkg_resources warning are about those
    # libraries, not the adopter's modules: kept out of their test output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    config.addinivalue_line("filterwarnings", "ignore:pkg_resources is deprecated:UserWarning")


def _specs(config: pytest.Config) -> list[Side]:
    """--pooler-handle and --pooler-handles-file's lines, each as compare's sides are written."""
    from tfhub_pooling import sides
    from tfhub_pooling.errors import UsageError

    lines = list(config.getoption("pooler_handle"))
    path = config.getoption("pooler_handles_file")
    specs = []
    try:
        if path:
            lines += sides.read_handles_file(path, "--pooler-handles-file")
        for line in lines:
            specs.append(sides.parse(line))
    except UsageError as e:
        raise pytest.UsageError(f"--pooler-handle: {e}") from None
    return specs


def _test_name(side: Side) -> str:
    return f"pooler[{side}]"


def _pairs(config: pytest.Config) -> list[tuple[str, str]]:
    """--pooler-compare's A::B, each side checked as compare() will read it."""
    from tfhub_pooling import sides
    from tfhub_pooling.errors import UsageError

    pairs = []
    for text in config.getoption("pooler_compare"):
        a, separator, b = text.partition("::")
        try:
            if not separator:
                raise UsageError("write the two sides as A::B")
            sides.parse(a), sides.parse(b)
        except UsageError as e:
            raise pytest.UsageError(f"--pooler-compare {text!r}: {e}") from None
        pairs.append((a.strip(), b.strip()))
    return pairs


class _Check(pytest.Item):
    """A check the command line names: its failure is its verdict and figures, or the error."""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from tfhub_pooling.errors import StudyError
        if isinstance(excinfo.value, AssertionError):
            return str(excinfo.value)
        if isinstance(excinfo.value, StudyError):
            return f"error: {excinfo.value} (exit code {excinfo.value.exit_code})"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return self.name, None, self.name


class PoolerItem(_Check):
    """One module's check, run through the same API as assert_pooler_matches."""

    def __init__(self, *, spec: Side, **kwargs: Any):
        super().__init__(**kwargs)
        self.spec = spec

    def runtest(self) -> None:
        from tfhub_pooling.testing import assert_pooler_matches
        assert_pooler_matches(self.spec.handle, preprocess=self.spec.preprocess, vocab=self.spec.vocab,
                              recover_weights=not self.config.getoption("pooler_no_diagnosis"))


class CompareItem(_Check):
    """Two models' comparison, run through the same API as assert_same_pooler."""

    def __init__(self, *, pair: tuple[str, str], **kwargs: Any):
        super().__init__(**kwargs)
        self.pair = pair

    def runtest(self) -> None:
        from tfhub_pooling.testing import assert_same_pooler
        assert_same_pooler(*self.pair)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """One item per handle, node id `pooler[HANDLE]`, reported as collected like any other
    (so pytest's count is true), before the hooks that select among items (-k, -m) run."""
    made: list[pytest.Item] = [PoolerItem.from_parent(session, name=_test_name(spec), nodeid=_test_name(spec),
                                                      spec=spec) for spec in _specs(config)]
    for a, b in _pairs(config):
        name = f"pooler-compare[{a} vs {b}]"     # `::` separates node ids in pytest's own syntax
        made.append(CompareItem.from_parent(session, name=name, nodeid=name, pair=(a, b)))
    if made:
        session.ihook.pytest_collectreport(report=pytest.CollectReport(
            nodeid="", outcome="passed", longrepr=None, result=list(made)))
        items.extend(made)


class PoolerCheck:
    """The `pooler_check` fixture: check(handle, texts=None, **verify_kwargs) -> VerifyResult,
    failing unless it matches. `handles` are the --pooler-handle / --pooler-handles-file
    values, so a hand-written test can run over the modules the command line names.
    Modules are loaded once a session, keyed by handle (`loaded`)."""

    def __init__(self, config: pytest.Config):
        self.handles: list[Side] = _specs(config)
        self.diagnose = not config.getoption("pooler_no_diagnosis")
        self.loaded: dict[str, Any] = {}

    def __call__(self, handle: str | None = None, texts: Sequence[Any] | None = None,
                 **verify_kwargs: Any) -> Any:
        __tracebackhide__ = True
        from tfhub_pooling import api
        from tfhub_pooling.testing import assert_pooler_matches

        key = handle or ""
        if key not in self.loaded:
            self.loaded[key] = api.load(handle)
        verify_kwargs.setdefault("recover_weights", self.diagnose)
        return assert_pooler_matches(handle, texts, module=self.loaded[key], **verify_kwargs)


@pytest.fixture(scope="session")
def pooler_check(pytestconfig: pytest.Config) -> PoolerCheck:
    return PoolerCheck(pytestconfig)
