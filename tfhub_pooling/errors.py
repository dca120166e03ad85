"""The study's errors and the exit codes the CLI maps them to.

Each error carries one line for the user: what went wrong and what to do.
EXIT_CODES is the one table of exit codes: `--help` prints it, and
tests/test_cli.py holds docs/errors.md to it.
"""

from __future__ import annotations

# Exit codes shared by every command; the verdicts' own (0, 10-15) are comparison.VERDICT_EXIT_CODES,
# compare's (0, 21-24) parting.VERDICT_EXIT_CODES.
EXIT_OK = 0
EXIT_USAGE = 2            # bad arguments or bad input text
EXIT_HANDLE = 3           # the handle does not exist or cannot be fetched
EXIT_NOT_A_MODULE = 4     # the handle is no loadable SavedModel / Hub module
EXIT_INTERFACE = 5        # loaded, but lacks the BERT interface (signature, outputs, vocab)
EXIT_BAD_WEIGHTS = 6      # pooler weights of the wrong shape, or non-finite values
EXIT_CANNOT_WRITE = 7     # an output, the cache or a module destination cannot be written (full, read-only)
EXIT_NO_POOLED_OUTPUT = 16  # the model returns no pooled_output at all (KerasHub DistilBERT, RoBERTa, ...)
EXIT_NOT_ALL_MATCH = 20   # several modules: at least one did not match or could not be checked
EXIT_INTERNAL = 70        # a bug in this tool; rerun with --debug and report it
EXIT_INTERRUPTED = 130    # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143     # SIGTERM, what CI timeouts send; corpus mode still prints its figures so far


# code -> what it means, in one line each; the verdicts' codes joined in by exit_codes().
ERROR_EXIT_CODES = {
    EXIT_USAGE: "usage or bad input (a text, a file, an option)",
    EXIT_HANDLE: "the handle does not exist or cannot be fetched",
    EXIT_NOT_A_MODULE: "the handle is no loadable module",
    EXIT_INTERFACE: "loaded, but no BERT interface (signature, outputs, vocab)",
    EXIT_BAD_WEIGHTS: "pooler weights of the wrong shape, or NaN/Inf in weights or outputs",
    EXIT_CANNOT_WRITE: "an output, standard output or a cache cannot be written",
    EXIT_NO_POOLED_OUTPUT: "NO_POOLED_OUTPUT: the model returns no pooled_output at all",
    EXIT_NOT_ALL_MATCH: "several modules, and not every one matched",
    EXIT_INTERNAL: "internal error: a bug in this tool; rerun with --debug and report it",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_TERMINATED: "terminated (SIGTERM)",
}


def exit_codes() -> dict[int, str]:
    """Every exit code and its meaning, verdicts included, in order."""
    from tfhub_pooling.numerics import comparison, parting

    verdicts = {code: f"{name}: {comparison.VERDICT_MEANINGS[name]}"
                for name, code in comparison.VERDICT_EXIT_CODES.items()}
    parted = {code: f"compare: {name}: {parting.VERDICT_MEANINGS[name]}"
              for name, code in parting.VERDICT_EXIT_CODES.items() if code}
    return dict(sorted((verdicts | parted | ERROR_EXIT_CODES).items()))


class StudyError(Exception):
    """An error with a one-line message for the user and an exit code."""

    exit_code = EXIT_INTERNAL


class UsageError(StudyError):
    exit_code = EXIT_USAGE


class HandleError(StudyError):
    exit_code = EXIT_HANDLE


class NotAModuleError(StudyError):
    exit_code = EXIT_NOT_A_MODULE


class InterfaceError(StudyError):
    exit_code = EXIT_INTERFACE


class BadWeightsError(StudyError):
    exit_code = EXIT_BAD_WEIGHTS


class CannotWriteError(StudyError):
    exit_code = EXIT_CANNOT_WRITE


class NoPooledOutputError(StudyError):
    """Not a mismatch: the model has no pooled_output, so there is nothing to rebuild."""

    exit_code = EXIT_NO_POOLED_OUTPUT


def first_line(e: object) -> str:
    """The first non-empty line of an error's text (TensorFlow's run to dozens)."""
    lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
    lines = [line for line in lines if line != "Graph execution error:"] or lines
    return lines[0] if lines else type(e).__name__
