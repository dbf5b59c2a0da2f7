"""The embedding model as an ONNX file (fp32 or int8), exported once from the packaged weights.

ONNX Runtime encodes passages faster than PyTorch on a small CPU, and int8 weights faster
still. The file is made offline from the same model folder the other encoders read: the BERT
is traced to ONNX (output: the token embeddings, dynamic batch and sequence axes) and, for
int8, its weights are quantized with ``onnxruntime.quantization.quantize_dynamic``.

Per-channel int8 is the recipe: per-tensor int8 (the library's default) left chunk vectors at
cosine 0.93–0.96 against fp32 on the seed and councils corpora; per-channel keeps them at
≥ 0.99 (figures in the README).

Files live in ``<cache>/<model digest>-<recipe>-<precision>.onnx``, where the digest hashes the
model's weights and config, so another model or a changed recipe never reuses a stale file.
They are written to a temporary name and renamed into place (``os.replace``): a killed export
leaves no half file under the final name. A file that ONNX Runtime cannot load is exported
again once; if that fails too, the error says what to do.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from assistant.errors import PeerqaError
from assistant.settings import resolve_model_path

RECIPE = "o17pc1"  # opset 17, per-channel int8 weights; bump when the export changes its output
PRECISIONS = ("fp32", "int8")
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxExportError(PeerqaError):
    """The ONNX model could not be made or loaded."""


def default_cache_dir() -> Path:
    """Beside the installed packages (``<venv>/share/peerqa/onnx``): made by `make install`,
    removed with the virtualenv, shared by every checkout that uses it."""
    return Path(sys.prefix) / "share" / "peerqa" / "onnx"


@lru_cache(maxsize=4)
def model_digest(model_path: str) -> str:
    """Hash of the weights and config: the exported file is valid for exactly these."""
    digest = hashlib.sha256()
    folder = Path(model_path)
    for name in ("config.json", "model.safetensors"):
        with open(folder / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def onnx_path(model: str, precision: str, cache_dir: Path | None = None) -> Path:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    return folder / f"{model_digest(resolve_model_path(model))}-{RECIPE}-{precision}.onnx"


def ensure_onnx(model: str, precision: str, cache_dir: Path | None = None,
                log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> Path:
    """The exported file for ``model`` at ``precision``, exporting it first when missing."""
    path = onnx_path(model, precision, cache_dir)
    if not path.is_file():
        log(f"exporting the embedding model to ONNX ({precision}), once, into {path.parent}/ …")
        export_onnx(resolve_model_path(model), path, precision)
    return path


def export_onnx(model_dir: str, target: Path, precision: str) -> None:
    """Trace the BERT in ``model_dir`` to ONNX (token embeddings out) and write ``target``
    atomically; int8 quantizes the weights per channel. Needs torch, transformers and onnx."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
            traced = Path(tmp) / "fp32.onnx"
            _trace(model_dir, traced)
            result = traced
            if precision == "int8":
                result = Path(tmp) / "int8.onnx"
                _quantize(traced, result)
            os.replace(result, target)
    except OSError as exc:
        raise OnnxExportError(
            f"Cannot write the ONNX model in {target.parent}/ ({exc.strerror or exc}). Free space, "
            "fix the folder's permissions or set onnx_dir to a writable folder.") from exc


def _trace(model_dir: str, out: Path) -> None:
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    # Eager attention traces to plain MatMul/Softmax with the padding mask applied. The
    # weight-loading progress bar would follow the one-line "exporting" message: hide it.
    hf_logging.disable_progress_bar()
    try:
        bert = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    finally:
        hf_logging.enable_progress_bar()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, model: torch.nn.Module):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    # A padded example (a zero in the mask), so nothing mask-dependent is traced as constant.
    ids = torch.tensor([[101, 2000, 2001, 102], [101, 2000, 102, 0]])
    mask = (ids > 0).long()
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, "token_embeddings")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer chatter about constant shapes; checked by tests
        torch.onnx.export(TokenEmbeddings(bert), (ids, mask, torch.zeros_like(ids)), str(out),
                          input_names=list(INPUTS), output_names=["token_embeddings"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


def _quantize(source: Path, out: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    # quantize_dynamic logs advice about pre-processing at WARNING; it changes nothing here.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)


def load_session(model: str, precision: str, cache_dir: Path | None = None, threads: int = 0,
                 log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)):
    """An ONNX Runtime CPU session for the model; a file that will not load is re-exported once."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads if threads > 0 else (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    # Threads sleep instead of spinning between ops: on a busy 2-core machine spinning threads
    # steal the core the other thread needs (int8, 93 chunks under load: 17 → 21 chunks/s).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    path = ensure_onnx(model, precision, cache_dir, log)
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception:  # noqa: BLE001 - ORT raises its own classes for a damaged file
        log(f"the ONNX model {path.name} is damaged; exporting it again …")
        path.unlink(missing_ok=True)
        path = ensure_onnx(model, precision, cache_dir, log)
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise OnnxExportError(
            f"ONNX Runtime cannot load {path} ({str(exc)[:120]}). Delete it and run again, or "
            "set encoder = \"torch-fp32\".") from exc


def main(argv: list[str] | None = None) -> int:
    """``python -m assistant.onnx_model [--precision fp32|int8]``: export now (`make install`
    runs it); without ``--precision``, only what the configured ``encoder`` needs."""
    import argparse

    from assistant.settings import load_settings

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--precision", choices=PRECISIONS)
    args = parser.parse_args(argv)
    settings = load_settings().settings
    precision = args.precision or settings.encoder.removeprefix("onnx-")
    if precision not in PRECISIONS:
        print(f"encoder {settings.encoder!r} needs no ONNX model", file=sys.stderr)
        return 0
    try:
        path = ensure_onnx(settings.model, precision, Path(settings.onnx_dir) if settings.onnx_dir else None)
    except PeerqaError as exc:
        print(f"peerqa: {exc}", file=sys.stderr)
        return exc.exit_code
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
