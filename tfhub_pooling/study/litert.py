"""A LiteRT (TFLite) file -> a loaded module, run by LiteRT's own interpreter (ai-edge-litert).

A .tflite file is one graph of operators over tensors, some of them constant. The
converter keeps a signature's names, but not a TF2 encoder's output names (`Identity`,
`Identity_1`, ... or `bert_encoder_1`, ...), so the outputs are identified from the graph
where their names do not say:

  pooled_output    the one [B, H] output
  sequence_output  the nearest [B, S, H] output it is computed from

and the pooler is the dense layer (FULLY_CONNECTED, or ADD over BATCH_MATMUL) where
pooled_output = TANH(dense(row 0 of sequence_output)). Where the graph has no such layer
(an identity or mean pooler), the study's verdicts say what pooled_output is. W and b are
the layer's constant inputs as the file stores them: float32; float16 behind a
DEQUANTIZE; or int8 with a float32 scale per output channel (dynamic-range quantization,
whose kernel quantizes cls on the fly: bounds.INT8_DYNAMIC). TFLite keeps W as [out, in].
No vocab travels in the file: --vocab or --preprocess. A TF1 graph's conversion keeps its
weights in resource variables, which LiteRT's Python interpreter does not initialize (its
outputs come out NaN): refused in one line.

  runner(ids, mask, types: int32 [B, S]) -> pooled_output [B, H], sequence_output [B, S, H]
"""

from __future__ import annotations

import dataclasses
import os
import threading
import warnings
from typing import Any

import numpy as np

from tfhub_pooling import untrusted
from tfhub_pooling.errors import InterfaceError, NotAModuleError, UsageError, first_line
from tfhub_pooling.formats import LITERT
from tfhub_pooling.study import stored_variables
from tfhub_pooling.study.loading import FALLBACK_MAX_SEQ_LENGTH, NO_VOCAB, LoadedModule, ModuleFacts, least_precise
from tfhub_pooling.study.stored_variables import Entry, Stored

SUFFIX = ".tflite"
MAGIC = b"TFL3"          # a TFLite flatbuffer's file identifier, at bytes 4-8
EXTRA = "pip install 'tfhub-pooling[litert]'"
# What each encoder input is called, in the formats the study reads.
INPUT_NAMES = {"ids": ("input_word_ids", "input_ids"), "mask": ("input_mask", "attention_mask"),
               "types": ("input_type_ids", "segment_ids", "token_type_ids")}
ROW_CUTS = ("STRIDED_SLICE", "SLICE", "GATHER")
DENSE_OPS = ("FULLY_CONNECTED", "BATCH_MATMUL")
PASS_THROUGH = ("CAST", "RESHAPE", "EXPAND_DIMS", "SQUEEZE")
MIN_POSITIONS = 8        # a position table has many rows; a segment table two
POOLER_KERNEL, POOLER_BIAS = "pooler_fully_connected/kernel", "pooler_fully_connected/bias"


def is_litert(path: str) -> bool:
    return os.path.isfile(path) and path.lower().endswith(SUFFIX)


@dataclasses.dataclass(frozen=True)
class Pooler:
    """The operators the pooled output comes out of: TANH <- a dense layer <- row 0 of the sequence."""

    kernel: int                      # the weights' tensor; [out, in] for FULLY_CONNECTED, [in, out] for BATCH_MATMUL
    bias: int | None                 # the bias tensor, where the layer adds one
    out_in: bool                     # the kernel is stored [out, in]
    op: str                          # FULLY_CONNECTED, or ADD over BATCH_MATMUL


@dataclasses.dataclass(frozen=True)
class Graph:
    """What the tool read off the graph: which output is which, and the pooler's operator."""

    pooled: str                      # the output name of pooled_output
    sequence: str                    # ... and of sequence_output
    found_by: str                    # "names" (the converter kept them) or "graph" (the one [B, H] output,
                                     # and the [B, S, H] output it is computed from)
    pooler: Pooler | None            # the dense layer, where pooled = TANH(dense(row 0 of sequence))


@dataclasses.dataclass(frozen=True)
class Model:
    """What a loaded LiteRT module holds (LoadedModule.obj): the interpreter and what was read
    off its graph, for `inspect`."""

    interpreter: Any
    roles: dict[str, str]            # ids, mask, types -> input name
    graph: Graph
    kernel: dict[str, Any] | None    # the pooler kernel as stored: name, dtype, scales (int8)
    size: int                        # bytes of the file


class Runner:
    """The model's one signature, or, where the converter wrote none (a concrete function's
    conversion), its plain inputs and outputs: name -> tensor index, and a call by name."""

    def __init__(self, interpreter: Any, path: str):
        self.interpreter, self.path = interpreter, path
        # One interpreter runs one call at a time (the study keeps batches in flight, and
        # LiteRT checks that no other call holds its buffers).
        self.lock = threading.Lock()
        signatures = interpreter.get_signature_list()
        if len(signatures) > 1:
            raise InterfaceError(f"{path} has {len(signatures)} signatures ({', '.join(signatures)}); the tool "
                                 "reads a model with one, the encoder's")
        self.key = next(iter(signatures), None)
        if self.key is not None:
            self.signature = interpreter.get_signature_runner(self.key)
            self.inputs = {k: int(v["index"]) for k, v in self.signature.get_input_details().items()}
            self.outputs = {k: int(v["index"]) for k, v in self.signature.get_output_details().items()}
        else:
            self.signature = None
            self.inputs = {d["name"]: int(d["index"]) for d in interpreter.get_input_details()}
            self.outputs = {d["name"]: int(d["index"]) for d in interpreter.get_output_details()}

    def __call__(self, given: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with self.lock:
            try:
                return self._call(given)
            except RuntimeError as e:       # a kernel that failed to run: LiteRT says which
                shape = list(next(iter(given.values())).shape)
                raise InterfaceError(f"{self.path}: LiteRT could not run it on inputs of shape {shape} "
                                     f"({first_line(e)})") from None

    def _call(self, given: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.signature is not None:
            return {k: np.array(v) for k, v in self.signature(**given).items()}
        it = self.interpreter
        for name, value in given.items():
            it.resize_tensor_input(self.inputs[name], value.shape, strict=False)
        it.allocate_tensors()
        for name, value in given.items():
            it.set_tensor(self.inputs[name], value)
        it.invoke()
        return {name: np.array(it.get_tensor(index)) for name, index in self.outputs.items()}


def _interpreter(path: str, probe: bool = False) -> Any:
    """probe: every tensor kept after a run, to read the weights a graph holds in variables."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        raise UsageError(f"{path} is a LiteRT model, and ai-edge-litert is not installed; run `{EXTRA}`") from None
    with open(path, "rb") as f:
        head = f.read(8)
    if head[4:8] != MAGIC:
        raise NotAModuleError(f"{path} is no LiteRT model: it lacks the TFL3 flatbuffer identifier; convert the "
                              "model with tf.lite.TFLiteConverter, or pass the SavedModel it came from")
    untrusted.check_size(path, 2 << 30, "the LiteRT model", NotAModuleError)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # the probe's "for debugging purposes" warning
            if probe:        # no XNNPACK on the probe: a delegate reuses the buffers it would read
                return Interpreter(model_path=path, experimental_preserve_all_tensors=True,
                                   experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
            return Interpreter(model_path=path, num_threads=os.cpu_count() or 1)
    except (ValueError, RuntimeError) as e:
        raise NotAModuleError(f"{path} could not be loaded by LiteRT ({first_line(e)}); is it complete and "
                              "uncorrupted?") from None


def load(handle: str, path: str) -> LoadedModule:
    interpreter = _interpreter(path)
    runner = Runner(interpreter, path)
    ops = interpreter._get_ops_details()
    if any(op["op_name"] == "VAR_HANDLE" for op in ops):
        raise InterfaceError(f"{path} holds its weights in resource variables (VAR_HANDLE, READ_VARIABLE: what the "
                             "converter makes of a TF1 graph), which LiteRT's Python interpreter leaves "
                             "uninitialized, so its outputs are not the model's; convert the model's TF2 form "
                             "(its weights become constants), or verify the SavedModel itself")
    _refuse_full_integer(path, interpreter, ops)
    made_by = _producers(ops)        # tensor -> the operator that makes it, for every walk below
    roles = _input_roles(path, runner, ops, made_by, interpreter)
    graph = _outputs(path, runner.outputs, made_by, interpreter)

    def run(input_ids: np.ndarray, input_mask: np.ndarray, segment_ids: np.ndarray) -> dict:
        given = {"ids": input_ids, "mask": input_mask, "types": segment_ids}
        out = runner({roles[role]: np.ascontiguousarray(a, np.int32) for role, a in given.items()})
        return {"pooled_output": np.array(out[graph.pooled]), "sequence_output": np.array(out[graph.sequence])}

    # One run of a probe keeps every tensor, so the tables' shapes are known however they are held.
    probe = _interpreter(path, probe=True)
    probe_runner = Runner(probe, path)
    tiny = np.zeros((1, 2), np.int32)
    probe_runner({roles["ids"]: tiny, roles["mask"]: np.ones_like(tiny), roles["types"]: tiny})
    stored = (_pooler_entries(probe, made_by, graph.pooler) if graph.pooler is not None
              else Stored(stored_variables.LITERT_SOURCE, []))
    vocab_rows, positions = _tables(probe, ops, made_by, runner.inputs[roles["ids"]])
    kind = stored.entries[0].dtype if stored.entries else None
    weights = _weights_dtype(probe, ops, made_by)
    facts = ModuleFacts(handle=handle, path=path, format=LITERT,
                        signature=f"{runner.key or 'no signature, the inputs'} "
                                  f"({', '.join(roles[r] for r in ('ids', 'mask', 'types'))}); pooled_output = "
                                  f"{graph.pooled}, sequence_output = {graph.sequence}, told by {graph.found_by}"
                                  + (f"; pooler {graph.pooler.op} found from the graph" if graph.pooler else
                                     "; no TANH(dense(row 0)) in the graph")
                                  + (f"; pooler weights {kind}" if kind else ""),
                        vocab_file=None, vocab_source=NO_VOCAB, do_lower_case=False,
                        max_seq_length=positions or FALLBACK_MAX_SEQ_LENGTH, num_layers=None, weights_dtype=weights)
    model = Model(interpreter, roles, graph, _kernel_facts(probe, made_by, graph.pooler), os.path.getsize(path))
    return LoadedModule(facts=facts, run=run, obj=model, vocab_rows=vocab_rows, stored=stored)


def _refuse_full_integer(path: str, interpreter: Any, ops: list[dict]) -> None:
    """A full-integer model (int8 or int16 activations, each with its own scale) computes
    its pooler in integers the study's bounds do not model yet: refused by name."""
    for op in ops:
        if op["op_name"] in DENSE_OPS and len(op["inputs"]):
            dtype = np.dtype(interpreter._get_tensor_details(int(op["inputs"][0]), 0)["dtype"]).name
            if dtype != "float32":
                raise InterfaceError(f"{path} is a full-integer model (its {op['op_name']} layers take {dtype} "
                                     "activations), which the tool does not read yet; verify its float32, float16 "
                                     "or dynamic-range int8 conversion (Optimize.DEFAULT without a "
                                     "representative dataset)")


def _weights_dtype(probe: Any, ops: list[dict], made_by: dict[int, dict]) -> str:
    """The least precise dtype the dense layers' weights are stored in: float32, float16 or int8."""
    return least_precise(np.dtype(probe._get_tensor_details(_weight_tensor(made_by, int(op["inputs"][1])), 0)
                                  ["dtype"]).name
                         for op in ops if op["op_name"] in DENSE_OPS and len(op["inputs"]) > 1)


def _producers(ops: list[dict]) -> dict[int, dict]:
    return {int(t): op for op in ops for t in op["outputs"]}


def _input_roles(path: str, runner: Runner, ops: list[dict], made_by: dict[int, dict],
                 interpreter: Any) -> dict[str, str]:
    """role (ids, mask, types) -> input name: by name where the names say. Else the ids are
    the input looked up in the largest table, and the mask is told from the segment ids by
    what it does: tokens it masks out (0) change no real position's output (_masks)."""
    inputs = runner.inputs
    if len(inputs) != 3:
        raise InterfaceError(f"{path} takes {len(inputs)} inputs ({', '.join(inputs)}), where a BERT encoder takes "
                             "ids, mask and segment ids")
    roles = {role: next((n for n in inputs if n.split(":")[0].removeprefix("serving_default_") in names), None)
             for role, names in INPUT_NAMES.items()}
    if all(roles.values()):
        return roles  # type: ignore[return-value]
    by_index = {v: k for k, v in inputs.items()}
    rows: dict[int, int] = {}
    for op in ops:
        if op["op_name"] == "GATHER":
            source = _behind(made_by, int(op["inputs"][1]))
            shape = interpreter._get_tensor_details(int(op["inputs"][0]), 0)["shape"]
            if source in by_index and len(shape) == 2:
                rows[source] = max(rows.get(source, 0), int(shape[0]))
    if not rows:
        raise InterfaceError(f"{path}: its inputs are named {', '.join(inputs)}, and none is looked up in an "
                             "embedding table, so none can be told to be the ids")
    ids = by_index[max(rows, key=rows.__getitem__)]
    others = [n for n in inputs if n != ids]
    for mask, types in (others, others[::-1]):
        if _masks(runner, ids, mask, types):
            return {"ids": ids, "mask": mask, "types": types}
    raise InterfaceError(f"{path}: neither {others[0]} nor {others[1]} acts as an input mask (tokens masked out "
                         "still change the outputs), so its inputs cannot be told apart")


def _masks(runner: Runner, ids: str, mask: str, types: str) -> bool:
    """Whether `mask` masks: with the last two tokens masked out, changing the last leaves
    every real position's output as it was. Two, since MobileBERT's embedding mixes each
    token with its neighbours."""
    outs = []
    for last in (7, 8):
        given = {ids: np.array([[1, 5, 6, 2, last]], np.int32), mask: np.array([[1, 1, 1, 0, 0]], np.int32),
                 types: np.zeros((1, 5), np.int32)}
        try:
            outs.append(runner(given))
        except (ValueError, InterfaceError):
            return False
    # [B, H] and [B, S, H] outputs only: MobileBERT's attention scores hold the masked keys' scores too.
    return all(np.array_equal(a, b) if a.ndim == 2 else np.array_equal(a[:, :3], b[:, :3])
               for a, b in zip(outs[0].values(), outs[1].values(), strict=True) if a.ndim in (2, 3))


def _behind(made_by: dict[int, dict], tensor: int, through: tuple[str, ...] = PASS_THROUGH) -> int:
    """The tensor behind `through` operators (casts, reshapes, squeezes): what a graph input
    or a row cut is before the converter reshaped it."""
    for _ in range(8):
        op = made_by.get(tensor)
        if op is None or op["op_name"] not in through:
            break
        tensor = int(op["inputs"][0])
    return tensor


def _dense(made_by: dict[int, dict], tensor: int) -> tuple[int, Pooler] | None:
    """(its input, the layer) where tensor is a dense layer's output: FULLY_CONNECTED(x, W[, b]),
    or ADD of BATCH_MATMUL(x, W) (or of a bias-free FULLY_CONNECTED) and b."""
    op = made_by.get(tensor)
    if op is None:
        return None
    inputs = [int(t) for t in op["inputs"]]
    if op["op_name"] == "FULLY_CONNECTED":
        return inputs[0], Pooler(inputs[1], inputs[2] if len(inputs) > 2 and inputs[2] >= 0 else None, True,
                                 "FULLY_CONNECTED")
    if op["op_name"] == "ADD" and len(inputs) == 2:
        for product, bias in (inputs, inputs[::-1]):
            inner = made_by.get(product)
            if inner is not None and inner["op_name"] in ("BATCH_MATMUL", "FULLY_CONNECTED"):
                x, kernel = (int(t) for t in inner["inputs"][:2])
                name = "ADD over " + inner["op_name"]
                return x, Pooler(kernel, bias, inner["op_name"] == "FULLY_CONNECTED", name)
    return None


def _outputs(path: str, outputs: dict[str, int], made_by: dict[int, dict], interpreter: Any) -> Graph:
    """Which output is pooled_output and which sequence_output, and the pooler's layer if the
    graph has one: by their names where the converter kept them (a signature's); else
    pooled_output is the one [B, H] output, and sequence_output the nearest [B, S, H]
    output it is computed from."""
    names = {index: name for name, index in sorted(outputs.items(), reverse=True)}
    pooled = next((outputs[n] for n in sorted(outputs) if "pooled_output" in n), None)
    sequence = next((outputs[n] for n in sorted(outputs) if "sequence_output" in n), None)
    found_by = "names"
    if pooled is None or sequence is None:
        ranks = {i: len(interpreter._get_tensor_details(i, 0)["shape_signature"]) for i in names}
        vectors = [i for i, rank in ranks.items() if rank == 2]
        if len(vectors) != 1:
            shapes = ", ".join(f"{n} {list(interpreter._get_tensor_details(i, 0)['shape_signature'])}"
                               for n, i in sorted(outputs.items()))
            raise InterfaceError(f"{path}: its outputs are not named pooled_output and sequence_output, and "
                                 f"{len(vectors)} of them are [batch, width] (it returns {shapes}), where a BERT "
                                 "encoder's pooled_output is the one; it is no BERT encoder the tool can read")
        pooled = vectors[0]
        sequence = _nearest_output(made_by, pooled, {i for i, rank in ranks.items() if rank == 3})
        if sequence is None:
            raise InterfaceError(f"{path}: its [batch, width] output {names[pooled]} is computed from none of its "
                                 "[batch, length, width] outputs, so no sequence_output can be told; it is no BERT "
                                 "encoder the tool can read")
        found_by = "graph"
    return Graph(names[pooled], names[sequence], found_by, _pooler(made_by, pooled, sequence))


def _nearest_output(made_by: dict[int, dict], tensor: int, candidates: set[int]) -> int | None:
    """The first of candidates met walking back from tensor through the operators that make it."""
    frontier, seen = [tensor], {tensor}
    while frontier:
        following = []
        for t in frontier:
            op = made_by.get(t)
            for source in (int(i) for i in op["inputs"]) if op is not None else ():
                if source in candidates:
                    return source
                if source >= 0 and source not in seen:
                    seen.add(source)
                    following.append(source)
        frontier = following
    return None


def _pooler(made_by: dict[int, dict], pooled: int, sequence: int) -> Pooler | None:
    """The dense layer of pooled = TANH(dense(row 0 of sequence)), where the graph is that."""
    tanh = made_by.get(_behind(made_by, pooled))
    dense = _dense(made_by, int(tanh["inputs"][0])) if tanh is not None and tanh["op_name"] == "TANH" else None
    if dense is None:
        return None
    x, pooler = dense
    cut = made_by.get(_behind(made_by, x))
    if cut is None or cut["op_name"] not in ROW_CUTS:
        return None
    return pooler if _behind(made_by, int(cut["inputs"][0])) == _behind(made_by, sequence) else None


def _value(probe: Any, tensor: int, made_by: dict[int, dict]) -> tuple[np.ndarray, str, str, np.ndarray | None]:
    """A constant weight as float64, dequantized as stored: (value, stored dtype, its name in
    the file, its quantization step per element or None): float16 behind its DEQUANTIZE,
    int8 with a scale per channel."""
    tensor = _weight_tensor(made_by, tensor)
    details = probe._get_tensor_details(tensor, 0)
    value, dtype, step = probe.get_tensor(tensor), np.dtype(details["dtype"]).name, None
    if dtype == "int8":
        q = details["quantization_parameters"]
        scales, zeros = np.asarray(q["scales"], np.float64), np.asarray(q["zero_points"], np.float64)
        shape = [1] * value.ndim
        shape[int(q["quantized_dimension"])] = -1
        value = (value.astype(np.float64) - zeros.reshape(shape)) * scales.reshape(shape)
        step = np.broadcast_to(scales.reshape(shape), value.shape)
    return np.asarray(value, np.float64), dtype, details["name"], step


def _pooler_entries(probe: Any, made_by: dict[int, dict], pooler: Pooler) -> Stored:
    """The pooler's W [in, out] and b, named for the naming table's LiteRT scheme."""
    kernel, kernel_dtype, kernel_name, step = _value(probe, pooler.kernel, made_by)
    kernel, step = (kernel.T, None if step is None else step.T) if pooler.out_in else (kernel, step)
    if pooler.bias is not None:
        bias, bias_dtype, bias_name, bias_step = _value(probe, pooler.bias, made_by)
    else:                          # a dense layer without a bias adds none
        bias, bias_dtype, bias_name, bias_step = np.zeros(kernel.shape[1]), "float32", "(no bias)", None
    entries = [Entry(POOLER_KERNEL, tuple(kernel.shape), kernel_dtype, lambda: kernel,
                     None if step is None else lambda: step),
               Entry(POOLER_BIAS, tuple(bias.shape), bias_dtype, lambda: bias,
                     None if bias_step is None else lambda: bias_step)]
    return Stored(stored_variables.LITERT_SOURCE, entries, {POOLER_KERNEL: kernel_name, POOLER_BIAS: bias_name})


def _tables(probe: Any, ops: list[dict], made_by: dict[int, dict], ids_input: int) -> tuple[int | None, int | None]:
    """(vocab rows, position rows): the table the ids are looked up in, and the largest
    smaller table the graph slices rows off (the positions; as folded, [1, P, W] too)."""
    vocab = None
    for op in ops:
        if op["op_name"] == "GATHER" and _behind(made_by, int(op["inputs"][1])) == ids_input:
            shape = probe.get_tensor(_weight_tensor(made_by, int(op["inputs"][0]))).shape
            if len(shape) == 2:
                vocab = max(vocab or 0, int(shape[0]))
    if vocab is None:
        return None, None
    rows = []
    for op in ops:
        if op["op_name"] in ("STRIDED_SLICE", "SLICE"):
            shape = probe.get_tensor(_weight_tensor(made_by, int(op["inputs"][0]))).shape
            shape = shape[1:] if len(shape) == 3 and shape[0] == 1 else shape
            if len(shape) == 2 and MIN_POSITIONS <= int(shape[0]) < vocab:
                rows.append(int(shape[0]))
    return vocab, max(rows, default=None)


def _weight_tensor(made_by: dict[int, dict], tensor: int) -> int:
    op = made_by.get(tensor)
    return int(op["inputs"][0]) if op is not None and op["op_name"] == "DEQUANTIZE" else tensor


def _kernel_facts(probe: Any, made_by: dict[int, dict], pooler: Pooler | None) -> dict[str, Any] | None:
    if pooler is None:
        return None
    tensor = _weight_tensor(made_by, pooler.kernel)
    details = probe._get_tensor_details(tensor, 0)
    scales = details["quantization_parameters"]["scales"]
    return {"name": details["name"], "dtype": np.dtype(details["dtype"]).name, "layer": pooler.op,
            "scales": len(scales), "scale_range": [float(min(scales)), float(max(scales))] if len(scales) else None}


def describe(module: LoadedModule) -> dict[str, Any]:
    """For `inspect`: which input and output is which and how that was told, the pooler's
    layer and how its kernel is stored, the file's size."""
    model = module.obj
    outputs = {model.graph.pooled: "pooled_output", model.graph.sequence: "sequence_output"}
    return {"inputs": {name: role for role, name in model.roles.items()}, "outputs": outputs,
            "told_by": model.graph.found_by, "pooler_kernel": model.kernel, "bytes": model.size}
