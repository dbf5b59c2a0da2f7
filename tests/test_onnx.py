"""The ONNX encoder: the export cache (atomic, keyed by the model, re-export of a damaged file),
the encoder setting, and (slow) the real exported model against fp32 sentence-transformers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant import onnx_model
from assistant.embedding import OnnxEmbedder, SentenceTransformerEmbedder, make_embedder
from assistant.errors import UsageError
from assistant.onnx_model import OnnxExportError, ensure_onnx, load_session, onnx_path
from assistant.retrieval import Retriever
from assistant.settings import DEFAULT_MODEL, Settings, load_settings


def tiny_onnx(out: Path) -> None:
    """A valid one-node model (Identity), standing in for the traced BERT."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(out))


@pytest.fixture
def fake_model(tmp_path: Path) -> Path:
    """A model folder with the two files the cache key hashes."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "model.safetensors").write_bytes(b"weights")
    return folder


@pytest.fixture
def traces(monkeypatch) -> list[Path]:
    """Replace the (slow, real-model) trace and quantization by a tiny model; record calls."""
    calls: list[Path] = []

    def trace(model_dir: str, out: Path) -> None:
        calls.append(out)
        tiny_onnx(out)

    monkeypatch.setattr(onnx_model, "_trace", trace)
    monkeypatch.setattr(onnx_model, "_quantize", lambda src, out: out.write_bytes(src.read_bytes()))
    return calls


def test_export_happens_once_and_is_keyed_by_the_weights(fake_model, tmp_path, traces) -> None:
    cache = tmp_path / "cache"
    messages: list[str] = []
    path = ensure_onnx(str(fake_model), "int8", cache, messages.append)
    assert path.is_file() and path.parent == cache and path.name.endswith("-int8.onnx")
    assert len(messages) == 1 and "exporting" in messages[0] and "\n" not in messages[0]
    assert ensure_onnx(str(fake_model), "int8", cache, messages.append) == path
    assert len(traces) == 1 and len(messages) == 1  # the second call found the file
    assert onnx_path(str(fake_model), "fp32", cache) != path
    onnx_model.model_digest.cache_clear()
    (fake_model / "model.safetensors").write_bytes(b"other weights")
    assert onnx_path(str(fake_model), "int8", cache) != path  # new weights, new file
    onnx_model.model_digest.cache_clear()


def test_a_failed_export_leaves_no_file_behind(fake_model, tmp_path, monkeypatch) -> None:
    cache = tmp_path / "cache"

    def half_written(model_dir: str, out: Path) -> None:
        out.write_bytes(b"half a model")
        raise KeyboardInterrupt  # killed mid-export

    monkeypatch.setattr(onnx_model, "_trace", half_written)
    with pytest.raises(KeyboardInterrupt):
        ensure_onnx(str(fake_model), "fp32", cache, lambda m: None)
    assert list(cache.iterdir()) == []  # neither the final name nor the temporary folder


def test_a_damaged_file_is_exported_again(fake_model, tmp_path, traces) -> None:
    cache = tmp_path / "cache"
    path = onnx_path(str(fake_model), "fp32", cache)
    cache.mkdir()
    path.write_bytes(b"\x00not an onnx model")
    messages: list[str] = []
    session = load_session(str(fake_model), "fp32", cache, threads=1, log=messages.append)
    assert [i.name for i in session.get_inputs()] == ["x"]
    assert any("damaged" in m for m in messages) and len(traces) == 1
    assert path.read_bytes()[:1] != b"\x00"


def test_an_export_that_keeps_failing_says_what_to_do(fake_model, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(onnx_model, "_trace", lambda model_dir, out: out.write_bytes(b"junk"))
    with pytest.raises(OnnxExportError) as caught:
        load_session(str(fake_model), "fp32", tmp_path / "cache", threads=1, log=lambda m: None)
    assert "torch-fp32" in str(caught.value) and "\n" not in str(caught.value)


def test_an_unwritable_cache_is_one_clear_error(fake_model, tmp_path, traces) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(OnnxExportError, match="onnx_dir"):
        ensure_onnx(str(fake_model), "int8", blocker / "cache", lambda m: None)


def test_encoder_setting_picks_the_embedder(tmp_path) -> None:
    assert isinstance(make_embedder(Settings(encoder="torch-fp32")), SentenceTransformerEmbedder)
    default = make_embedder(Settings())
    assert isinstance(default, OnnxEmbedder) and default.precision == "fp32"
    int8 = make_embedder(Settings(encoder="onnx-int8", onnx_dir=str(tmp_path), encoder_threads=1))
    assert isinstance(int8, OnnxEmbedder) and int8.precision == "int8"
    assert int8.cache_dir == tmp_path and int8.threads == 1
    loaded = load_settings(env={"PEERQA_ENCODER": "onnx-int8"}, use_file=False)
    assert loaded.settings.encoder == "onnx-int8" and loaded.sources["encoder"] == "env PEERQA_ENCODER"
    with pytest.raises(UsageError, match="encoder must be one of"):
        load_settings(env={"PEERQA_ENCODER": "onnx-int4"}, use_file=False)


# --- slow: the real exported model ---------------------------------------------------------

PASSAGES = [
    ("The council has a clear vision and strong political and managerial leadership, and "
     "partners describe it as a good council that is performing well."),
    ("Peers recommended that the council review its scrutiny arrangements. The overview and "
     "scrutiny committee should set its own work programme."),
    ("The medium term financial strategy shows a budget gap of \u00a312m by 2025/26, which the "
     "council plans to close through savings and new income."),
    ("Members and officers work well together and the staff are proud to work for the council. "
     * 12),  # beyond the 256-token limit: truncated the same way
]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for piece in text.split(". "):
        spans.append((start, start + len(piece)))
        start += len(piece) + 2
    return [(a, b) for a, b in spans if b > a][:6]


@pytest.fixture(scope="module")
def reference():
    spans = [sentence_spans(p) for p in PASSAGES]
    return spans, SentenceTransformerEmbedder(DEFAULT_MODEL).embed_passages(PASSAGES, spans)


@pytest.mark.slow
# int8: at least 0.99 on CPUs with AVX-512; 0.987 on an AVX2-only one (2026-11-27), whose int8
# kernels round differently
@pytest.mark.parametrize(("precision", "floor"), [("fp32", 0.9999), ("int8", 0.98)])
def test_onnx_vectors_match_fp32_sentence_transformers(reference, tmp_path_factory, precision,
                                                        floor) -> None:
    spans, expected = reference
    encoder = OnnxEmbedder(DEFAULT_MODEL, precision, batch_size=2,
                           cache_dir=tmp_path_factory.mktemp("onnx"))
    got = encoder.embed_passages(PASSAGES, spans)
    assert got.vectors.shape == expected.vectors.shape == (len(PASSAGES), 384)
    assert np.min(np.sum(got.vectors * expected.vectors, axis=1)) >= floor
    # the sentence vectors line up: same count per passage, each nearest its own fp32 vector
    assert [len(s) for s in got.span_vectors] == [len(s) for s in expected.span_vectors]
    mine, theirs = np.concatenate(got.span_vectors), np.concatenate(expected.span_vectors)
    similarity = mine @ theirs.T
    assert np.min(np.diag(similarity)) >= floor - 0.02
    distinct = [i for i in range(len(mine)) if np.sum(similarity[i] > 0.999) <= 1]
    assert all(int(np.argmax(similarity[i])) == i for i in distinct)
    query = encoder.embed_query(PASSAGES[2])
    assert float(query @ expected.vectors[2]) >= floor


@pytest.mark.slow
def test_questions_use_the_exported_fp32_model_when_it_is_there(tmp_path, monkeypatch,
                                                                shared_fake_index) -> None:
    from assistant import embedding
    from assistant.embedding import NumpyMiniLM, QueryEncoder

    monkeypatch.setattr(onnx_model, "default_cache_dir", lambda: tmp_path)
    embedding._query_model.cache_clear()
    try:
        # no exported file: the NumPy port answers, and a question never waits for an export
        assert isinstance(embedding._query_model(DEFAULT_MODEL), NumpyMiniLM)
        assert not list(tmp_path.iterdir())
        numpy_vectors = [QueryEncoder(DEFAULT_MODEL).embed_query(p) for p in PASSAGES[:3]]
        ensure_onnx(DEFAULT_MODEL, "fp32", tmp_path, log=lambda m: None)
        embedding._query_model.cache_clear()
        assert isinstance(embedding._query_model(DEFAULT_MODEL), OnnxEmbedder)
        for text, expected in zip(PASSAGES[:3], numpy_vectors):
            assert float(QueryEncoder(DEFAULT_MODEL).embed_query(text) @ expected) > 0.9999
        # a question and its topic in one pass: the vectors of one pass each (padding masked)
        together = QueryEncoder(DEFAULT_MODEL).embed_queries([PASSAGES[0], "shared services"])
        for text, vector in zip([PASSAGES[0], "shared services"], together):
            assert float(vector @ QueryEncoder(DEFAULT_MODEL).embed_query(text)) > 0.99999
        # a configured onnx_dir is where questions look too, not only the default folder
        elsewhere = tmp_path / "configured"
        assert isinstance(embedding._query_model(DEFAULT_MODEL, str(elsewhere)), NumpyMiniLM)
        ensure_onnx(DEFAULT_MODEL, "fp32", elsewhere, log=lambda m: None)
        embedding._query_model.cache_clear()
        encoder = embedding._query_model(DEFAULT_MODEL, str(elsewhere))
        assert isinstance(encoder, OnnxEmbedder) and encoder.cache_dir == elsewhere
        settings, store = shared_fake_index  # the retriever's encoder looks in settings.onnx_dir
        retriever = Retriever(store, replace(settings, onnx_dir=str(elsewhere)))
        assert retriever.encoder.onnx_dir == str(elsewhere)
    finally:
        embedding._query_model.cache_clear()
