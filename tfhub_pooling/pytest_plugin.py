"""The pytest plugin (entry point `pytest11`): a team's CI checks its exported
modules with no test code of its own.

    pytest --pooler-handle=exports/bert_tf1 --pooler-handle="exports/encoder,preprocess=exports/preprocess"
    pytest --pooler-handles-file=modules.txt      # one handle a line, same syntax, # comments

Write each option as one word (`--pooler-handle=PATH`): pytest picks its rootdir before
plugins' options are known, so a path given as a separate word counts as a test path
there, and a handle outside the project moves rootdir and its cache (pytest's own
behaviour for every plugin option).

collects one test per handle (`pooler[HANDLE]`); a failure shows the
verdict, the figures and the reason, and pytest's --junitxml carries them to the CI
system. --pooler-no-diagnosis skips the black-box fit on a mismatch. For hand-written
tests, the `pooler_check` fixture runs assert_pooler_matches with the session's loaded
modules cached, so twenty tests on one module load it once; `pooler_check.handles` are
the command line's handles.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import pytest


@dataclasses.dataclass(frozen=True)
class HandleSpec:
    handle: str
    preprocess: str | None = None

    @classmethod
    def parse(cls, text: str) -> HandleSpec:
        """`HANDLE` or `HANDLE,preprocess=HANDLE`."""
        handle, *options = [part.strip() for part in text.split(",")]
        preprocess = None
        for option in options:
            key, _, value = option.partition("=")
            if key != "preprocess" or not value:
                raise pytest.UsageError(f"--pooler-handle {text!r}: the only option is preprocess=HANDLE")
            preprocess = value
        return cls(handle, preprocess)

    @property
    def test_name(self) -> str:
        return f"pooler[{self.handle}" + (f",preprocess={self.preprocess}" if self.preprocess else "") + "]"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tfhub-pooling", "BERT pooler checks (tfhub-pooling)")
    group.addoption("--pooler-handle", action="append", default=[], metavar="HANDLE[,preprocess=HANDLE]",
                    help="check that this module's pooled_output is tanh(cls · W + b) with its stored "
                         "pooler weights; repeatable, one test each")
    group.addoption("--pooler-handles-file", metavar="FILE",
                    help="a file of handles, one a line (same syntax as --pooler-handle; # comments)")
    group.addoption("--pooler-no-diagnosis", action="store_true",
                    help="on a mismatch, skip the black-box fit that names the differing weights "
                         "(it costs seconds to minutes per failing module)")


def pytest_configure(config: pytest.Config) -> None:
    # TensorFlow's C++ logs and tensorflow_hub's pkg_resources warning are about those
    # libraries, not the adopter's modules: kept out of their test output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    config.addinivalue_line("filterwarnings", "ignore:pkg_resources is deprecated:UserWarning")


def _specs(config: pytest.Config) -> list[HandleSpec]:
    lines = list(config.getoption("pooler_handle"))
    path = config.getoption("pooler_handles_file")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                lines += [line.split("#", 1)[0].strip() for line in f]
        except OSError as e:
            raise pytest.UsageError(f"--pooler-handles-file {path}: {e.strerror}") from None
    return [HandleSpec.parse(line) for line in lines if line]


class PoolerItem(pytest.Item):
    """One module's check, run through the same API as assert_pooler_matches."""

    def __init__(self, *, spec: HandleSpec, **kwargs: Any):
        super().__init__(**kwargs)
        self.spec = spec

    def runtest(self) -> None:
        from tfhub_pooling.testing import assert_pooler_matches
        assert_pooler_matches(self.spec.handle, preprocess=self.spec.preprocess,
                              recover_weights=not self.config.getoption("pooler_no_diagnosis"))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from tfhub_pooling.errors import StudyError
        if isinstance(excinfo.value, AssertionError):
            return str(excinfo.value)
        if isinstance(excinfo.value, StudyError):
            return f"error: {excinfo.value} (exit code {excinfo.value.exit_code})"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return self.name, None, self.name


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """One item per handle, node id `pooler[HANDLE]`, reported as collected like any other
    (so pytest's count is true), before the hooks that select among items (-k, -m) run."""
    made = [PoolerItem.from_parent(session, name=spec.test_name, nodeid=spec.test_name, spec=spec)
            for spec in _specs(config)]
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
        self.handles: list[HandleSpec] = _specs(config)
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
