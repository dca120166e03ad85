"""How fast the study is, beside the bare model, in one process.

Every figure is a wall-clock median over repeats after one warm-up pass, with its min,
max and every pass in order (runs_s). The in-process sections run with the TensorFlow
the process set up: the command's, `tfhub-pooling bench`, runs with
process_env.SETTINGS. Sections:
  tokenize      tensorflow_text packing alone, texts/s
  bare_forward  the module's call on pre-tokenized, length-bucketed batches, run as the
                study runs them (defaults.BATCHES_IN_FLIGHT at a time)
  in_flight     the same batches one at a time, and what running several at once gains
  study         tokenization + forward + pooler rebuild + statistics (corpus.run_corpus)
                on the same texts, batched the same way
  padding       forward on every batch padded to 128 (what the TF Hub preprocessing
                model does) against length-bucketed batches, and the largest change
                in pooled_output between the two
  cold_start    `verify` from process start to verdict, module cached, beside a bare
                process that imports tensorflow, loads the module and runs one forward,
                and beside `verify` with tf.keras left on Keras 3 (process_env.py)
  memory        peak RSS (VmHWM) of corpus-mode `verify` over N and 20 N texts, each in a
                fresh process
  gflops        the bare forward pass's achieved GFLOP/s (dense layers and attention over
                the padded tokens), beside this machine's measured float32 matmul rate
  race          whole processes on a corpus: `verify --texts-file` against TF Hub's official
                pipeline and Hugging Face PyTorch (tools/race/whole_process.py)

Ratios of two in-process sections (study ÷ bare, in flight, padding) are medians over
rounds of the two passes' ratio within a round (paired_ratio), so that the machine's
drift from round to round cancels.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

import numpy as np

from benchmarks.race import whole_process
from tfhub_pooling import api, atomic, defaults, process_env
from tfhub_pooling.cli import execute, int_at_least
from tfhub_pooling.conventions import vocabs
from tfhub_pooling.errors import UsageError
from tfhub_pooling.formats import TF2_DICT
from tfhub_pooling.study import corpus, forward, input_source, stored_variables, texts
from tfhub_pooling.study.encoder_inputs import EncoderInputs, Tokenizer, pad_to
from tfhub_pooling.study.loading import LoadedModule
from tfhub_pooling.study.texts import Text

FIXED_LENGTH = defaults.PREPROCESS_SEQ_LENGTH   # as the preprocessing models pad
# The LiteRT sizes, and the SavedModel each was converted from.
CONVERTED_FROM = {f"minilm-litert{suffix}": "minilm-tf2" for suffix in ("", "-float16", "-int8")}


@dataclasses.dataclass
class Timing:
    median_s: float
    min_s: float
    max_s: float
    repeats: int
    runs_s: list[float]          # every timed pass, in order


def time_it(fn: Callable[[], object], repeats: int) -> Timing:
    return time_interleaved({"only": fn}, repeats)["only"]


def time_interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, Timing]:
    """Times each function `repeats` times, taking turns (A B A B ...), after one warm-up
    pass each, so that drift in a shared machine's speed falls on all of them alike."""
    for fn in fns.values():
        fn()                                    # warm-up: traces, caches, allocations
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - start)
    return {name: Timing(statistics.median(r), min(r), max(r), repeats, r) for name, r in runs.items()}


def paired_ratio(a: Timing, b: Timing) -> float:
    """The median over rounds of a's time / b's time, from time_interleaved: b's
    throughput against a's. A round's passes run close together, so a change in the
    machine's speed from round to round cancels, as it does not in a ratio of medians."""
    return statistics.median(ta / tb for ta, tb in zip(a.runs_s, b.runs_s, strict=False))


# The instruction sets that decide TensorFlow's kernels: oneDNN is its default only
# with AVX512-VNNI or AMX. Machines of one model name ("AMD EPYC") differ in them.
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "amx_tile")


def cpu_info() -> tuple[str, list[str]]:
    """The CPU's model name and which of CPU_FLAGS it has, from /proc/cpuinfo."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = set(fields.get("flags", "").split())
    return fields.get("model name", platform.processor() or "unknown"), [f for f in CPU_FLAGS if f in flags]


def machine() -> dict:
    import tensorflow as tf

    model, flags = cpu_info()
    return {"cores": os.cpu_count(), "cpu": model, "cpu_flags": flags, "python": platform.python_version(),
            "tensorflow": tf.__version__, "platform": platform.platform(),
            "environment": {name: os.environ.get(name) for name in process_env.SETTINGS}}


def matmul_gflops(repeats: int = 5, calls: int = 20) -> dict:
    """This machine's float32 matmul rate, at the FFN's shape over 2,048 tokens (MiniLM,
    [2048, 384] · [384, 1536]) and at a large square 2048³: `calls` products in one
    graph call, each summed so that none can be skipped, as a module's kernels run, with
    neither Python nor a copy into numpy between them. The best of `repeats` passes."""
    import tensorflow as tf

    @tf.function
    def products(a, b):
        total = tf.constant(0.0)
        for _ in tf.range(calls):
            total += tf.reduce_sum(tf.matmul(a, b))
        return total

    rates = {}
    for name, (m, k, n) in {"ffn_2048x384x1536": (2048, 384, 1536), "square_2048": (2048, 2048, 2048)}.items():
        a, b = tf.random.normal([m, k]), tf.random.normal([k, n])
        t = time_it(lambda a=a, b=b: products(a, b).numpy(), repeats)
        rates[name] = 2 * m * k * n * calls / t.min_s / 1e9
    return rates


def forward_flops(module: LoadedModule, batches: list[EncoderInputs]) -> float | None:
    """Floating-point operations of the encoder over the padded batches: every stored
    dense kernel (pooler and embeddings aside) once a token, and attention's two
    [S, S] products a layer. Counts each stored layer once: not for ALBERT. None for a
    module without TF variables to count (a LiteRT graph)."""
    kernels = [e for e in stored_variables.from_variables(module.variables)
               if len(e.shape) == 2 and e.name.endswith("kernel") and "pooler" not in e.name]
    if not kernels:
        return None
    macs_per_token = sum(e.shape[0] * e.shape[1] for e in kernels)
    hidden = max(e.shape[1] for e in kernels if e.shape[0] == e.shape[1])
    padded = sum(b.input_ids.size for b in batches)
    attention = sum(2 * (module.facts.num_layers or 0) * hidden * b.input_ids.shape[0] * b.input_ids.shape[1] ** 2
                    for b in batches)
    return 2.0 * (macs_per_token * padded + attention)


def ordinary_sentences(n: int, vocab_file: str, seed: int = 0) -> list[Text]:
    """Single sentences of 8 to 30 words (10 to about 40 word pieces with [CLS]/[SEP]), from
    n generated texts of which every fifth, a pair, is dropped: ask for 5/4 of what you need."""
    return [t for t in vocabs.generate_texts(n, vocab_file, seed, min_words=8, max_words=30)
            if len(texts.segments(t)) == 1]


def _pad_to(inputs: EncoderInputs, width: int) -> EncoderInputs:
    return dataclasses.replace(inputs, input_ids=pad_to(inputs.input_ids, width),
                               input_mask=pad_to(inputs.input_mask, width),
                               segment_ids=pad_to(inputs.segment_ids, width))


def bench_module(module: LoadedModule, texts: list[Text], batch_size: int, repeats: int) -> dict:
    tokenizer = Tokenizer(module.facts.vocab_file, module.facts.do_lower_case)
    max_len = min(FIXED_LENGTH, module.facts.max_seq_length)
    numbered = list(enumerate(texts, start=1))
    chunks = [texts[start:start + corpus.CHUNK] for start in range(0, len(texts), corpus.CHUNK)]
    # As corpus mode batches: each chunk packed once, its rows sorted by token count.
    order, encoded = [], []
    for start, chunk in zip(range(0, len(texts), corpus.CHUNK), chunks, strict=False):
        packed = tokenizer.pack(chunk, max_len)
        for rows in corpus.token_sorted_batches(packed, batch_size):
            order.append(rows + start)
            encoded.append(packed.batch(rows))
    in_order = [tokenizer.encode(texts[i:i + batch_size], max_len) for i in range(0, len(texts), batch_size)]
    fixed = [_pad_to(e, max_len) for e in in_order]

    def run_batches(batches, in_flight=defaults.BATCHES_IN_FLIGHT):
        return [out for _, _, out in forward.run_many(module, ((None, e) for e in batches), in_flight)]

    def study_pass():
        corpus.run_corpus(module, tokenizer, numbered, max_len, pooler)

    pooler, _ = module.pooler()
    n = len(texts)
    tokenize = time_it(lambda: [tokenizer.pack(chunk, max_len) for chunk in chunks], repeats)
    timed = time_interleaved({"bare": lambda: run_batches(encoded), "study": study_pass,
                              "fixed": lambda: run_batches(fixed),
                              "one_at_a_time": lambda: run_batches(encoded, 1)}, repeats)
    bare, full, fixed_t, one = timed["bare"], timed["study"], timed["fixed"], timed["one_at_a_time"]

    # Same texts every way; put the bucketed rows back in file order to compare.
    file_order = np.argsort(np.concatenate(order))
    pooled_bucketed, pooled_one = (np.concatenate([o.pooled_output for o in run_batches(encoded, k)])[file_order]
                                   for k in (defaults.BATCHES_IN_FLIGHT, 1))
    pooled_fixed = np.concatenate([o.pooled_output for o in run_batches(fixed)])
    tokens = int(sum(e.input_mask.sum() for e in encoded))
    flops = forward_flops(module, encoded)
    return {
        "texts": n, "tokens": tokens, "batch_size": batch_size,
        "padded_tokens": {"bucketed": int(sum(e.input_mask.size for e in encoded)),
                          "fixed_128": int(sum(e.input_mask.size for e in fixed))},
        "tokenize": _rate(tokenize, n),
        "bare_forward": _rate(bare, n),
        "study": _rate(full, n),
        "study_vs_bare_throughput": paired_ratio(bare, full),
        "in_flight": {"batches": defaults.BATCHES_IN_FLIGHT, "one_at_a_time": _rate(one, n),
                      "speedup": paired_ratio(one, bare),
                      "max_abs_pooled_change": float(np.abs(pooled_bucketed - pooled_one).max())},
        "gflops_bare_forward": None if flops is None else flops / bare.median_s / 1e9,
        "padding": {"fixed_128": _rate(fixed_t, n), "bucketed": _rate(bare, n),
                    "bucketed_vs_fixed_throughput": paired_ratio(fixed_t, bare),
                    "max_abs_pooled_change": float(np.abs(pooled_bucketed - pooled_fixed).max())},
    }


def _rate(t: Timing, n: int) -> dict:
    return dataclasses.asdict(t) | {"texts_per_s": n / t.median_s}


# The child reads its own VmHWM: rusage's ru_maxrss is no use here, since Linux
# carries the parent's high-water mark across fork and exec into the child's.
PEAK_WRAPPER = """
import sys
from tfhub_pooling import process_env
process_env.prepare()
from tfhub_pooling.cli import main
code = main(sys.argv[1:])
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print("VmHWM_kB", hwm.split()[1], file=sys.stderr)
sys.exit(code)
"""


def _child_peak_mb(cli_args: list[str]) -> float:
    """Peak RSS of `python -m tfhub_pooling <cli_args>` in a fresh process."""
    proc = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, *cli_args], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{cli_args[:3]} exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    kb = next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("VmHWM_kB"))
    return int(kb) / 1024.0


BARE_LOAD = """
import time, sys
import tensorflow as tf, tensorflow_hub as hub
m = hub.load(sys.argv[1])
ids = tf.constant([[101, 7592, 102]], tf.int32)
m.signatures["tokens"](input_ids=ids, input_mask=tf.ones_like(ids), segment_ids=tf.zeros_like(ids))
"""


def cold_start(module_path: str, repeats: int) -> dict:
    """`verify` in a fresh process against the bare import + load + one forward (TF1 modules),
    taking turns; and `verify` with tf.keras left on Keras 3, for what process_env saves."""
    verify = [sys.executable, "-m", "tfhub_pooling", "verify", "--handle", module_path, "--text", "Hello."]
    runs = {"verify": (verify, None), "import_load_forward": ([sys.executable, "-c", BARE_LOAD, module_path], None),
            "verify_keras3": (verify, {process_env.LEGACY_KERAS: "0"})}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (argv, env) in runs.items():
            times[name].append(whole_process.wall(name, argv, env)[0])
    med = {k: statistics.median(v) for k, v in times.items()}
    return ({k: {"median_s": med[k], "min_s": min(v), "max_s": max(v), "repeats": repeats}
             for k, v in times.items()}
            | {"verify_vs_bare": med["verify"] / med["import_load_forward"],
               "tf_keras_saves_s": med["verify_keras3"] - med["verify"]})


def memory(module_path: str, vocab_file: str, small: int, large: int) -> dict:
    """Peak RSS of corpus-mode verify over `small` and `large` texts."""
    peaks = {}
    with tempfile.TemporaryDirectory(prefix="tfhub-pooling-bench-") as tmp:
        for n in (small, large):
            path = os.path.join(tmp, f"{n}.txt")
            write_corpus(path, n, vocab_file)
            peaks[n] = _child_peak_mb(["verify", "--handle", module_path, "--texts-file", path,
                                       "--json"])
    return {"texts": [small, large], "peak_rss_mb": [peaks[small], peaks[large]],
            "growth_mb": peaks[large] - peaks[small]}


def write_corpus(path: str, n: int, vocab_file: str) -> None:
    """n ordinary single sentences from vocab_file's words, one a line."""
    with open(path, "w", encoding="utf-8") as f:
        for t in ordinary_sentences(n * 5 // 4 + 8, vocab_file, seed=n)[:n]:
            f.write(t + "\n")


def run(sizes: dict[str, str], n_texts: int, batch_size: int, repeats: int,
        memory_texts: tuple[int, int] | None, cold_repeats: int,
        race_sizes: Sequence[int] = (), race_rounds: int = 3, hf_python: str | None = None,
        vocab: str | None = None) -> dict:
    """sizes: name -> module directory (or .tflite file); vocab: for a module that carries none
    (default: the default module's). Returns the whole benchmark document."""
    import resource

    from tfhub_pooling import provision

    if race_sizes and hf_python:
        whole_process.check_hf_python(hf_python)      # before any work
    doc = {"machine": machine() | {"matmul_gflops": matmul_gflops()},
           "settings": {"texts": n_texts, "batch_size": batch_size, "repeats": repeats}, "modules": {}}
    for name, path in sizes.items():
        module = api.load(path)
        if module.facts.vocab_file is None:     # a LiteRT file: the vocab it was converted with
            module = input_source.named_vocab(module, vocab or str(provision.weights_dir() / "vocab.txt"), None)
        texts = ordinary_sentences(n_texts * 5 // 4 + 8, module.facts.vocab_file)[:n_texts]
        entry = {"path": path, "hidden": None} | bench_module(module, texts, batch_size, repeats)
        entry["hidden"] = int(forward.run(module, Tokenizer(module.facts.vocab_file, module.facts.do_lower_case)
                                          .encode(texts[:1], 16)).pooled_output.shape[1])
        # The bare baseline is tensorflow_hub's load of a SavedModel; other formats have none.
        if cold_repeats and os.path.isfile(os.path.join(path, "saved_model.pb")):
            entry["cold_start"] = cold_start(path, cold_repeats)
        if name in CONVERTED_FROM:
            entry["converted_from"] = CONVERTED_FROM[name]
        doc["modules"][name] = entry
    if memory_texts:
        first = next(iter(sizes.values()))
        doc["memory"] = memory(first, api.load(first).facts.vocab_file, *memory_texts)
    if race_sizes:
        vocab = str(provision.weights_dir() / "vocab.txt")     # the default's: the race runs the default
        doc["race"] = whole_process.race(list(race_sizes), race_rounds, hf_python,
                                         lambda path, n: write_corpus(path, n, vocab))
    doc["peak_rss_mb_this_process"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    doc["peak_rss_mb_verify_default"] = _child_peak_mb(["verify"])
    return doc


def table(doc: dict) -> str:
    m = doc["machine"]
    lines = [f"machine: {m['cores']} cores, {m['cpu']} [{' '.join(m['cpu_flags'])}], TensorFlow {m['tensorflow']}",
             f"{'module':<22} {'texts/s tokenize':>16} {'bare':>8} {'study':>8} {'study/bare':>10} "
             f"{'fixed128':>9} {'bucketed/fixed':>14} {'max Δpooled':>11}"]
    for name, e in doc["modules"].items():
        p = e["padding"]
        lines.append(f"{name:<22} {e['tokenize']['texts_per_s']:>16.0f} {e['bare_forward']['texts_per_s']:>8.1f} "
                     f"{e['study']['texts_per_s']:>8.1f} {e['study_vs_bare_throughput']:>10.3f} "
                     f"{p['fixed_128']['texts_per_s']:>9.1f} {p['bucketed_vs_fixed_throughput']:>14.2f} "
                     f"{p['max_abs_pooled_change']:>11.2e}")
        if "cold_start" in e:
            c = e["cold_start"]
            lines.append(f"{'':<22} cold verify {c['verify']['median_s']:.2f} s, import+load+forward "
                         f"{c['import_load_forward']['median_s']:.2f} s, ratio {c['verify_vs_bare']:.2f}; "
                         f"tf.keras on tf_keras saves {c['tf_keras_saves_s']:.2f} s")
    for name, e in doc["modules"].items():
        source = doc["modules"].get(e.get("converted_from", ""))
        if source is not None:
            lines.append(f"{name}: study {e['study']['texts_per_s']:.1f} texts/s, "
                         f"{e['study']['texts_per_s'] / source['study']['texts_per_s']:.2f}x the SavedModel it was "
                         f"converted from ({e['converted_from']}, {source['study']['texts_per_s']:.1f})")
    lines.append("matmul GFLOP/s: " + ", ".join(f"{k} {v:.0f}" for k, v in m.get("matmul_gflops", {}).items()))
    for name, e in doc["modules"].items():
        f = e["in_flight"]
        gflops = "—" if e["gflops_bare_forward"] is None else f"{e['gflops_bare_forward']:.0f}"
        lines.append(f"{name}: bare forward {gflops} GFLOP/s, "
                     f"{e['padded_tokens']['bucketed'] / e['bare_forward']['median_s']:.0f} padded tokens/s; "
                     f"{f['batches']} batches in flight {f['speedup']:.2f}x one at a time "
                     f"(max Δpooled {f['max_abs_pooled_change']:.1e})")
    for n, r in doc.get("race", {}).get("sizes", {}).items():
        others = ", ".join(f"{k} {r[k]['median_s']:.1f} s ({v:.2f}x)" for k, v in r["study_speedup"].items())
        lines.append(f"race {n} texts: study {r['study']['median_s']:.1f} s (best {r['study']['best_s']:.1f}); "
                     f"{others}; teardown {r['teardown_s']:.2f} s; oneDNN saves {r['onednn_saves_s']:.2f} s")
        for k in r["study_speedup"]:
            ph = r[k]["phases_median_s"]
            lines.append(f"  {k}: import {ph['import_s']:.1f} s, load {ph['load_s']:.1f} s, forward "
                         f"{ph['forward_s']:.1f} s over {r[k]['padded_tokens']} padded tokens "
                         f"({r[k]['forward_tokens_per_s']:.0f}/s)")
    if "memory" in doc:
        mem = doc["memory"]
        lines.append(f"memory: corpus verify peak RSS {mem['peak_rss_mb'][0]:.0f} MB for {mem['texts'][0]} texts, "
                     f"{mem['peak_rss_mb'][1]:.0f} MB for {mem['texts'][1]}: +{mem['growth_mb']:.0f} MB")
    return "\n".join(lines)


def write_json(doc: dict, path: str) -> None:
    atomic.write_file(path, lambda f: f.write(json.dumps(doc, indent=2).encode()))


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


def parser() -> argparse.ArgumentParser:
    m = argparse.ArgumentParser(prog="scripts/bench.py",
                                description="Times the study against the bare model (table + JSON).")
    m.set_defaults(func=_run)
    m.add_argument("--debug", action="store_true", help="show TensorFlow's logs and tracebacks")
    which = m.add_mutually_exclusive_group()
    which.add_argument("--sizes", default="minilm,bert-base",
                       help="comma-separated: minilm (the default module), minilm-hf (the same weights "
                            "as the Hugging Face checkpoint they ship as), minilm-tf2 (the default as a TF2 "
                            "SavedModel), minilm-litert, minilm-litert-float16, minilm-litert-int8 (that "
                            "SavedModel converted by TensorFlow's converter, cached), bert-base (random, built "
                            "into the cache)")
    which.add_argument("--handle", help="benchmark this module instead of --sizes")
    m.add_argument("--vocab", help="the vocab for a module that carries none (a LiteRT file); default: the "
                                   "default module's")
    m.add_argument("--texts", type=int_at_least(1), default=512, help="generated sentences per pass")
    m.add_argument("--batch-size", type=int_at_least(1), default=defaults.BATCH_SIZE)
    m.add_argument("--repeats", type=int_at_least(1), default=3)
    m.add_argument("--cold-repeats", type=int_at_least(0), default=3, help="0 skips the cold-start section")
    m.add_argument("--memory-texts", type=_count_pair, default=(1000, 20000),
                   help="N,M texts for the corpus memory check on the first module; 0 skips it")
    m.add_argument("--race", type=_count_list, default=[1500, 6000], metavar="N,M",
                   help="corpus sizes for the whole-process race against TF Hub's official pipeline "
                        "(and --hf-python's); 0 skips it")
    m.add_argument("--race-rounds", type=int_at_least(1), default=3)
    m.add_argument("--hf-python", help="a Python with torch and transformers: races Hugging Face's "
                                       "BertModel in PyTorch too (no dependency of this project)")
    m.add_argument("--out", default="bench.json", help="where to write the JSON document")
    return m


def _run(args: argparse.Namespace) -> int:
    from tfhub_pooling import provision

    atomic.check_writable_file(args.out, "--out")
    if args.handle:
        sizes = {"module": args.handle}
    else:
        known = {"minilm": provision.ensure_default, "minilm-hf": lambda: str(provision.weights_dir()),
                 "minilm-tf2": lambda: provision.ensure_default(TF2_DICT),
                 "minilm-litert": lambda: _litert("float32"), "minilm-litert-float16": lambda: _litert("float16"),
                 "minilm-litert-int8": lambda: _litert("int8"), "bert-base": provision.ensure_bert_base}
        names = [n for n in args.sizes.split(",") if n]
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise UsageError(f"unknown --sizes {', '.join(unknown) or '(none)'}; choose from {', '.join(known)}")
        sizes = {n: known[n]() for n in names}
    doc = run(sizes, args.texts, args.batch_size, args.repeats, args.memory_texts, args.cold_repeats,
              args.race, args.race_rounds, args.hf_python, args.vocab)
    write_json(doc, args.out)
    print(table(doc))
    print(f"written to {args.out}")
    return 0


def _litert(mode: str) -> str:
    """The default's TF2 SavedModel converted to LiteRT in `mode`, once, into the cache."""
    from tfhub_pooling import provision
    from tfhub_pooling.builder.litert_converter import convert

    source = provision.ensure_default(TF2_DICT)
    # Named for the SavedModel it comes from (its name carries the builder's version), so a
    # rebuilt SavedModel is converted again rather than read stale.
    path = provision.cache_dir() / "litert" / f"{os.path.basename(source)}-{mode}.tflite"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        convert(source, str(path), mode)
    return str(path)


def main(argv: list[str] | None = None) -> int:
    """`scripts/bench.py [args]`: errors as the CLI's, one line and an exit code."""
    return execute(parser().parse_args(argv))
