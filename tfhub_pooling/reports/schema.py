"""The JSON Schemas of the documents, and a validator that knows all of them.

verify, corpus, inspect, zoo (several modules) and compare .schema.json take their shared
entries (module, pooler, inputs, verdict, ...) from common.schema.json, by
absolute `urn:tfhub-pooling:...` references, so the vocabulary is written once.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

DOCUMENTS = ("verify", "corpus", "inspect", "zoo", "compare")


def load(name: str) -> dict[str, Any]:
    """The schema of a document (DOCUMENTS) or "common"."""
    text = resources.files("tfhub_pooling.reports").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")
    return json.loads(text)


def validator(name: str):
    """A jsonschema validator for one document, with common.schema.json resolvable."""
    import jsonschema
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in (load(n) for n in (*DOCUMENTS, "common")))
    return jsonschema.Draft202012Validator(load(name), registry=registry)
