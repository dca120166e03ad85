"""The pytest plugin, run by pytest's own pytester: a team's CI with no test code."""

from __future__ import annotations

import pytest

from tfhub_pooling.builder import build, sources
from tfhub_pooling.builder.controls import Control


@pytest.fixture(scope="module")
def identity_module(tmp_path_factory, small_hf_dir):
    dest = tmp_path_factory.mktemp("plugin") / "identity"
    return build.build_module(sources.from_hf_dir(small_hf_dir), str(dest), control=Control("identity"))


def test_one_test_per_handle_with_the_verdict_on_failure(pytester, small_module_path, identity_module,
                                                         tmp_path):
    handles = tmp_path / "modules.txt"
    handles.write_text(f"# the zoo\n{identity_module}\n", encoding="utf-8")
    junit = tmp_path / "junit.xml"
    result = pytester.runpytest(f"--pooler-handle={small_module_path}", f"--pooler-handles-file={handles}",
                                "--pooler-handle=/no/such/module", f"--junitxml={junit}")
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    assert "EQUALS_CLS: pooled_output is the [CLS] vector itself" in out
    # the short summary line keeps the verdict (it cuts long messages at the terminal width)
    assert any(line.startswith("FAILED") and "] - EQUALS_CL" in line for line in out.splitlines())
    assert "error: /no/such/module does not exist" in out and "(exit code 3)" in out
    assert "internal error" not in out
    assert "EQUALS_CLS" in junit.read_text(encoding="utf-8")


def test_a_preprocessing_model_rides_along(pytester, tmp_path, small_hf_dir):
    weights = sources.from_hf_dir(small_hf_dir)
    encoder = build.build_module(weights, str(tmp_path / "enc"), "tf2-dict")
    pre = build.build_module(weights, str(tmp_path / "pre"), "preprocess")
    result = pytester.runpytest("--pooler-handle", f"{encoder},preprocess={pre}")
    result.assert_outcomes(passed=1)


def test_the_fixture_loads_each_module_once(pytester, small_module_path):
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.parametrize("text", ["One.", "Two words.", "And a third text."])
        def test_texts(pooler_check, text):
            r = pooler_check({small_module_path!r}, texts=[text])
            assert r.ok and len(pooler_check.loaded) == 1
    """)
    pytester.runpytest().assert_outcomes(passed=3)


def test_a_bad_option_is_a_usage_error(pytester):
    result = pytester.runpytest("--pooler-handle", "m,tokenizer=x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "'tokenizer=x' is no option of a handle; write HANDLE[,preprocess=HANDLE][,vocab=FILE]" in result.stderr.str()


def test_a_hand_written_failure_shows_the_callers_line_not_our_source(pytester, identity_module):
    pytester.makepyfile(f"""
        from tfhub_pooling.testing import assert_pooler_matches

        def test_encoder():
            assert_pooler_matches({identity_module!r}, texts=["Hello."])
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "assert_pooler_matches(" in out and "EQUALS_CLS" in out
    assert "r = verify(handle, texts" not in out and "__tracebackhide__" not in out


def test_the_count_and_node_ids_are_pytests_own(pytester, small_module_path, identity_module):
    """Both handles lie outside pytester's directory; written as one word each, they move
    neither rootdir nor the node ids."""
    pytester.makepyfile("def test_own():\n    pass\n")
    result = pytester.runpytest("-v", f"--pooler-handle={small_module_path}", f"--pooler-handle={identity_module}",
                                "--pooler-no-diagnosis")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "collected 3 items" in out
    assert f"pooler[{small_module_path}] PASSED" in out
    assert f"pooler[{identity_module}] FAILED" in out
    assert "..::" not in out and f"rootdir: {pytester.path}" in out
    listed = pytester.runpytest("--collect-only", "-q", f"--pooler-handle={small_module_path}")
    assert f"pooler[{small_module_path}]" in listed.stdout.str().splitlines()
    selected = pytester.runpytest("-k", "own", f"--pooler-handle={small_module_path}")
    selected.assert_outcomes(passed=1)             # -k deselects the pooler item like any other
    assert "1 deselected" in selected.stdout.str()


def test_the_fixture_sees_the_command_lines_handles(pytester, small_module_path):
    pytester.makepyfile("""
        def test_every_named_module(pooler_check):
            assert [h.handle for h in pooler_check.handles] == [pooler_check.handles[0].handle]
            for spec in pooler_check.handles:
                assert pooler_check(spec.handle, texts=["One."], preprocess=spec.preprocess).ok
    """)
    pytester.runpytest(f"--pooler-handle={small_module_path}", "-k", "every_named").assert_outcomes(passed=1)


def test_no_diagnosis_skips_the_fit(pytester, tmp_path, small_hf_dir):
    """A pooler changed by 0.05 at W[3, 7] fails the bound; only the fit names the element."""
    from tfhub_pooling.builder.controls import Control
    path = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "perturbed"),
                              control=Control("perturbed", amount=0.05, row=3, col=7))
    pytester.makepyfile(f"""
        def test_encoder(pooler_check):
            pooler_check({path!r}, texts=["Hello."])
    """)
    skipped = pytester.runpytest("--pooler-no-diagnosis")
    skipped.assert_outcomes(failed=1)
    assert "UNEXPLAINED" in skipped.stdout.str() and "recovery (skipped)" in skipped.stdout.str()
    diagnosed = pytester.runpytest(f"--pooler-handle={path}", "-k", "pooler")
    diagnosed.assert_outcomes(failed=1)
    assert "POOLER_WEIGHTS_DIFFER" in diagnosed.stdout.str() and "W[3, 7]" in diagnosed.stdout.str()
