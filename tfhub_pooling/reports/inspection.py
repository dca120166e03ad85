"""What a module is, without running it: format, tags, signatures, variables,
where the pooler lives and under which naming, the vocab and casing."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import tensorflow as tf

from tfhub_pooling import untrusted
from tfhub_pooling.errors import NotAModuleError
from tfhub_pooling.formats import BUILD_RECORD, KERAS_HUB, LITERT
from tfhub_pooling.reports import render
from tfhub_pooling.study import (
    keras_hub_loading,
    litert,
    loading,
    saved_model_proto,
    stored_variables,
)
from tfhub_pooling.study.encoder_inputs import PreprocessingModel

# Longer variable lists are summarised: the first and last few, and totals.
SHOW_VARIABLES = 12


def _tensor_spec(info) -> dict[str, Any]:
    shape = None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]
    # DT_INVALID (0) marks entries with no dtype, like TF2's __saved_model_init_op.
    return {"dtype": tf.dtypes.as_dtype(info.dtype).name if info.dtype else None, "shape": shape}


def meta_graphs(path: str) -> list[dict[str, Any]]:
    """Graph variants (tag sets) and their signatures, read off saved_model.pb."""
    return [{"tags": sorted(mg.meta_info_def.tags),
             "signatures": {name: {"inputs": {k: _tensor_spec(v) for k, v in sig.inputs.items()},
                                   "outputs": {k: _tensor_spec(v) for k, v in sig.outputs.items()}}
                            for name, sig in sorted(mg.signature_def.items())}}
            for mg in saved_model_proto.read(path).meta_graphs]


def built_by(path: str) -> dict[str, Any] | None:
    """What this project's builder recorded about a module it wrote (build.BUILD_RECORD)."""
    record = os.path.join(path, *BUILD_RECORD)
    if not os.path.isfile(record):
        return None
    built = untrusted.read_json(record, "the build record", NotAModuleError)
    return built if isinstance(built, dict) else None


def _variables(entries: list[stored_variables.Entry]) -> dict[str, Any]:
    rows = [{"name": e.name, "shape": list(e.shape), "dtype": e.dtype} for e in entries]
    shown = rows if len(rows) <= SHOW_VARIABLES else rows[:SHOW_VARIABLES - 3] + rows[-3:]
    return {"count": len(rows), "parameters": int(sum(np.prod(r["shape"]) for r in rows)),
            "shown": shown, "summarised": len(rows) > SHOW_VARIABLES}


def document(module: loading.LoadedModule | PreprocessingModel) -> dict[str, Any]:
    """One document: the module entry every document shares, its graph variants
    and signatures, variables, where the pooler lives, and who built it. A preprocessing
    model has the same document, with no variables and no pooler."""
    if isinstance(module, PreprocessingModel):
        return _document(module.facts, None, None, None)
    entries = stored_variables.from_variables(module.variables) or stored_variables.from_checkpoint(module.facts.path)
    pooler, search = module.pooler()
    doc = _document(module.facts, entries, pooler, search)
    if module.facts.format == KERAS_HUB:
        doc["keras_preset"] = keras_hub_loading.describe(module)
    if module.facts.format == LITERT:
        doc["litert"] = litert.describe(module)
    return doc


def _document(facts: loading.ModuleFacts, entries, pooler, search) -> dict[str, Any]:
    return {"schema_version": render.SCHEMA_VERSION, "produced_by": render.produced_by(),
            "module": render.module_json(facts),
            "meta_graphs": meta_graphs(facts.path) if saved_model_proto.proto_file(facts.path) else [],
            "keras_preset": None, "litert": None,
            "variables": None if entries is None else _variables(entries),
            "pooler": render.pooler_json(pooler), "pooler_search": search,
            "built_by": built_by(facts.path)}


def _specs(tensors: dict[str, dict]) -> str:
    return ", ".join(f"{k} {v['dtype'] or 'op'}{v['shape'] if v['shape'] is not None else ''}"
                     for k, v in tensors.items())


def terminal(info: dict[str, Any]) -> str:
    m = info["module"]
    lines = [f"module      {m['handle']}", f"path        {m['resolved_path']}",
             f"format      {m['format']}, called through {m['signature']}"]
    for mg in info["meta_graphs"]:
        tags = mg["tags"]
        role = "" if len(info["meta_graphs"]) == 1 else (
            "  (inference: the study runs this one)" if not tags else "  (training: dropout on)"
            if tags == ["train"] else "")
        lines.append(f"graph       tags {tags or '[] (empty set)'}{role}")
        for name, sig in mg["signatures"].items():
            lines.append(f"  signature {name}: ({_specs(sig['inputs'])}) -> ({_specs(sig['outputs'])})")
    if info["variables"] is not None:
        v = info["variables"]
        lines.append(f"variables   {v['count']} ({v['parameters']:,} parameters)"
                     + (", first and last shown" if v["summarised"] else ""))
        lines += [f"  {r['name']} {r['shape']} {r['dtype']}" for r in v["shown"]]
        p = info["pooler"]
        lines.append(f"pooler      {p['kernel']['name']} {p['kernel']['shape']} / {p['bias']['name']}: "
                     f"{p['scheme']} naming, from the {p['source']}" if p
                     else f"pooler      none: {info['pooler_search']}")
        lines.append(f"max length  {m['max_seq_length']} tokens, {m['num_layers'] or '?'} layers")
    lines.append(f"vocab       {m['vocab_file']} ({'lower case' if m['do_lower_case'] else 'cased'}; "
                 f"from {render.vocab_words(loading.VocabSource(**m['vocab_source']), m['do_lower_case'])})")
    if info["keras_preset"]:
        k = info["keras_preset"]
        config = ", ".join(f"{key}={value}" for key, value in k["config"].items() if key != "name")
        lines.append(f"preset      {k['class']} ({config}); {len(k['layers'])} layers; "
                     f"tokenizer {k['tokenizer']}")
    if info["litert"]:
        t = info["litert"]
        roles = ", ".join(f"{name} = {role}" for name, role in t["inputs"].items())
        outputs = ", ".join(f"{name} = {role}" for name, role in t["outputs"].items())
        lines.append(f"litert      {t['bytes'] / 2**20:,.1f} MiB; inputs {roles}; outputs {outputs} (told by "
                     f"{t['told_by']})")
        k = t["pooler_kernel"]
        if k:
            scales = (f", {k['scales']} scales from {k['scale_range'][0]:.3g} to {k['scale_range'][1]:.3g}"
                      if k["scales"] else "")
            lines.append(f"            pooler kernel {k['name']} ({k['dtype']}{scales}), in a {k['layer']}")
    if info["built_by"]:
        b = info["built_by"]
        lines.append(f"built by    {b['builder']} from {b['source']}; activation {b['activation']}"
                     + (f"; negative control: {b['control']}" if b.get("control") else ""))
    return "\n".join(lines)
