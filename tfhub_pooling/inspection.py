"""What a module is, without running it: format, tags, signatures, variables,
where the pooler lives and under which naming, the vocab and casing."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from tfhub_pooling import handle as handles, loaded_module, stored_weights, study, weights
from tfhub_pooling.formats import PREPROCESS

# Longer variable lists are summarised: the first and last few, and totals.
SHOW_VARIABLES = 12


def _tensor_spec(info) -> dict[str, Any]:
    shape = None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]
    # DT_INVALID (0) marks entries with no dtype, like TF2's __saved_model_init_op.
    return {"dtype": tf.dtypes.as_dtype(info.dtype).name if info.dtype else None, "shape": shape}


def meta_graphs(path: str) -> list[dict[str, Any]]:
    """Tags and signatures, read off saved_model.pb."""
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    return [{"tags": sorted(mg.meta_info_def.tags),
             "signatures": {name: {"inputs": {k: _tensor_spec(v) for k, v in sig.inputs.items()},
                                   "outputs": {k: _tensor_spec(v) for k, v in sig.outputs.items()}}
                            for name, sig in sorted(mg.signature_def.items())}}
            for mg in proto.meta_graphs]


def _variables(entries: list[stored_weights.Entry], dtypes: dict[str, str]) -> dict[str, Any]:
    rows = [{"name": e.name, "shape": list(e.shape), "dtype": dtypes.get(e.name, "float32")}
            for e in entries]
    shown = rows if len(rows) <= SHOW_VARIABLES else rows[:SHOW_VARIABLES - 3] + rows[-3:]
    return {"count": len(rows), "parameters": int(sum(np.prod(r["shape"]) for r in rows)),
            "shown": shown, "summarised": len(rows) > SHOW_VARIABLES}


def inspect(handle: str | None) -> dict[str, Any]:
    if handle is not None and not weights.is_checkpoint_dir(handle):
        path = handles.resolve(handle)
        obj = loaded_module.load_saved_model(path)
        if loaded_module.detect_format(path, obj) == PREPROCESS:
            return {"handle": handle, "resolved_path": path, "format": PREPROCESS,
                    "meta_graphs": meta_graphs(path),
                    "vocab_file": obj.vocab_file.asset_path.numpy().decode(),
                    "do_lower_case": bool(obj.do_lower_case.numpy())}
    module = study.load(handle)
    entries = stored_weights.from_variables(module.variables)
    dtypes = {e.name: v.dtype.name for e, v in zip(entries, module.variables)}
    if not entries:
        entries = stored_weights.from_checkpoint(module.path)
    pooler, search = study.find_pooler(module, None)
    return {
        "handle": module.handle, "resolved_path": module.path, "format": module.format,
        "call": module.signature, "meta_graphs": meta_graphs(module.path),
        "variables": _variables(entries, dtypes),
        "pooler": pooler and {"kernel": pooler.kernel_name, "bias": pooler.bias_name,
                              "shape": list(pooler.kernel.shape), "scheme": pooler.scheme,
                              "source": pooler.source, "checkpoint": pooler.checkpoint},
        "pooler_search": search,
        "vocab_file": module.vocab_file, "do_lower_case": module.do_lower_case,
        "max_seq_length": module.max_seq_length,
    }


def _specs(tensors: dict[str, dict]) -> str:
    return ", ".join(f"{k} {v['dtype'] or 'op'}{v['shape'] if v['shape'] is not None else ''}"
                     for k, v in tensors.items())


def terminal(info: dict[str, Any]) -> str:
    lines = [f"module      {info['handle']}", f"path        {info['resolved_path']}",
             f"format      {info['format']}" + (f", called through {info['call']}" if "call" in info else "")]
    for mg in info["meta_graphs"]:
        lines.append(f"meta graph  tags {mg['tags'] or '[] (empty set)'}")
        for name, sig in mg["signatures"].items():
            lines.append(f"  signature {name}: ({_specs(sig['inputs'])}) -> ({_specs(sig['outputs'])})")
    if "variables" in info:
        v = info["variables"]
        lines.append(f"variables   {v['count']} ({v['parameters']:,} parameters)"
                     + (", first and last shown" if v["summarised"] else ""))
        lines += [f"  {r['name']} {r['shape']} {r['dtype']}" for r in v["shown"]]
        p = info["pooler"]
        lines.append(f"pooler      {p['kernel']} / {p['bias']} {p['shape']}: {p['scheme']} naming, "
                     f"from the {p['source']}" if p else f"pooler      none: {info['pooler_search']}")
        lines.append(f"max length  {info['max_seq_length']} tokens")
    lines.append(f"vocab       {info['vocab_file']} ({'lower case' if info['do_lower_case'] else 'cased'})")
    return "\n".join(lines)
