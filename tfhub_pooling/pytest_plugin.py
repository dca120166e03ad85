"""The pytest plugin (entry point `pytest11`): a team's CI checks its exported
modules with no test code of its own.

    pytest --pooler-handle exports/bert_tf1 --pooler-handle "exports/encoder,preprocess=exports/preprocess"
    pytest --pooler-handles-file modules.txt      # one handle a line, same syntax, # comments

collects one test per handle; a failure shows the verdict, the figures and the
reason, and pytest's --junitxml carries them to the CI system. For hand-written
tests, the `pooler_check` fixture runs assert_pooler_matches with the session's
loaded modules cached, so twenty tests on one module load it once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
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
        assert_pooler_matches(self.spec.handle, preprocess=self.spec.preprocess)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        from tfhub_pooling.errors import StudyError
        if isinstance(excinfo.value, AssertionError):
            return str(excinfo.value)
        if isinstance(excinfo.value, StudyError):
            return f"error: {excinfo.value} (exit code {excinfo.value.exit_code})"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return self.spec.handle, None, self.name


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    for spec in _specs(config):
        items.append(PoolerItem.from_parent(session, name=spec.test_name, spec=spec))


@pytest.fixture(scope="session")
def pooler_check() -> Callable[..., Any]:
    """check(handle, texts=None, **verify_kwargs) -> VerifyResult, failing unless it matches.

    Modules are loaded once a session, keyed by handle."""
    from tfhub_pooling import api
    from tfhub_pooling.testing import assert_pooler_matches

    loaded: dict[str, Any] = {}

    def check(handle: str | None = None, texts: Sequence[Any] | None = None, **verify_kwargs: Any):
        key = handle or ""
        if key not in loaded:
            loaded[key] = api.load(handle)
        return assert_pooler_matches(handle, texts, module=loaded[key], **verify_kwargs)

    check.loaded = loaded
    return check
