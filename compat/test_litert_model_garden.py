"""Model Garden's own exports (export_tfhub_lib.export_model), converted to LiteRT by
TensorFlow's converter in float32, float16 and dynamic-range int8, and verified from the
.tflite: the verdict each SavedModel gets, now read off the converted graph."""

from __future__ import annotations

import pytest

from tfhub_pooling import api
from tfhub_pooling.builder.litert_converter import MODES, convert
from tfhub_pooling.formats import LITERT
from tfhub_pooling.numerics.comparison import EQUALS_CLS, MATCHES_POOLER
from tfhub_pooling.reports import words

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Hello!", ("A pair's first segment.", "Its second.")]
# kind -> the verdict its SavedModel gets (compat/test_model_garden_encoders.py)
EXPECTED = {"copy_pooler": MATCHES_POOLER, "mobilebert": MATCHES_POOLER, "mobilebert_no_activation": EQUALS_CLS}


@pytest.fixture(scope="module")
def converted(model_garden_encoders, tmp_path_factory) -> dict[tuple[str, str], str]:
    root = tmp_path_factory.mktemp("litert-model-garden")
    return {(kind, mode): convert(model_garden_encoders[kind], str(root / f"{kind}-{mode}.tflite"), mode)
            for kind in EXPECTED for mode in MODES}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_conversion_gets_its_saved_models_verdict(converted, model_garden_encoders, vocab_file, kind, mode):
    r = api.verify(converted[kind, mode], texts=TEXTS, vocab=vocab_file)
    assert r.verdict == EXPECTED[kind], words.reason(r.comparison)
    assert r.module.format == LITERT
    if EXPECTED[kind] == MATCHES_POOLER:
        assert r.pooler.scheme == "litert-graph" and "found from the graph" in r.module.signature
        source = api.verify(model_garden_encoders[kind], texts=TEXTS, vocab=vocab_file, structure_test=False)
        # The same weights: float16 and int8 store them rounded, within one step of their own.
        step = {"float32": 0.0, "float16": 2.0 ** -11, "int8": 1 / 127}[mode]
        scale = abs(source.pooler.kernel).max()
        assert abs(r.pooler.kernel - source.pooler.kernel).max() <= step * scale


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["copy_pooler", "mobilebert"])
def test_each_conversion_agrees_with_its_saved_model_within_its_precision(converted, model_garden_encoders,
                                                                          vocab_file, kind, mode):
    """compare on the pair TensorFlow's converter made: the same model, in float16 and int8
    within the tolerance of the weights the .tflite stores."""
    p = api.compare(f"{model_garden_encoders[kind]},vocab={vocab_file}", f"{converted[kind, mode]},vocab={vocab_file}",
                    texts=TEXTS)
    assert p.verdict == "AGREE", [(s.stage, s.status, s.max_abs, s.bound) for s in p.stages]
    assert p.stage("encoder").findings["precision"] == mode
