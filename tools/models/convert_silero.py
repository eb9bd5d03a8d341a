#!/usr/bin/env python3
"""Fold Silero VAD v6 for 8 kHz line audio into a graph tract runs.

    convert_silero.py --model-dir DIR

reads DIR/silero_vad.onnx (PyPI silero-vad 6.2.3, sha256 pinned below) and writes
DIR/silero_vad_8k.onnx, byte-for-byte the same on every run (the manifest pins its sha256).

The shipped graph takes `input` [batch, samples], `state` [2, batch, 128] and a scalar `sr`,
and picks the 8 kHz or 16 kHz network with an `If` on `sr`; inside, more `If`s test ranks
and batch sizes (`Shape` -> `Gather` -> `Equal`). tract cannot run `If` on a runtime value.
What this tool does:

1. Fixes the inputs to what the firmware feeds: `input` [1, 288] (32 samples of context
   from the previous chunk, then a 256-sample chunk, floats i16 / 32768, as silero-vad's own
   OnnxWrapper does at 8 kHz) and `state` [2, 1, 128]; `sr` becomes the constant 8000 and
   is removed from the inputs.
2. Partially evaluates the graph: every node whose inputs are constants, and every `Shape`
   / `Size` (all shapes are static now), is computed (onnx's reference evaluator) and
   dropped; an `If` whose condition is then constant is replaced by the nodes of the branch
   it takes (recursively), so no `If` is left. The 16 kHz weights go with the branch not
   taken. Identity chains are collapsed and dead nodes removed. The LSTM weight reordering
   (PyTorch gate order -> ONNX) becomes plain initializers.
3. Rewrites pieces tract handles badly, each checked on its own:
   - `Slice` ends of INT64_MAX become the real dimension (tract has dropped the last
     element for such ends elsewhere, see /work/shared/models.md);
   - a `Slice` that keeps the whole tensor (the STFT's `[..., 0:]`) is removed;
   - `Cast` from float to float is removed;
   - `Pow(x, 2)` becomes `Mul(x, x)` (exact, and an element-wise multiply in any runtime);
   - the unused full-sequence output `Y` of the LSTM is dropped;
   - the If-branch prefix is stripped from value and node names (readable tract errors).
4. After folding and after every rewrite, runs the candidate and the ORIGINAL graph (with
   sr = 8000) in onnxruntime over the same 2 s of speech-like test signal, chunk by chunk
   with state and context carried, and fails unless probabilities and states agree to
   < 1e-5 (MAX_ERROR).
5. Writes the result to a temporary file in DIR, then renames it into place.

Build-time tool: runs in tools/models/pyenv.sh's environment (numpy, onnx, onnxruntime);
nothing here runs on the unit.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from collections import deque
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

SOURCE = "silero_vad.onnx"
SOURCE_SHA256 = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
OUTPUT = "silero_vad_8k.onnx"

SAMPLE_RATE = 8000
CHUNK = 256
CONTEXT = 32
WINDOW = CONTEXT + CHUNK
STATE_SHAPE = (2, 1, 128)
MAX_ERROR = 1e-5
BRANCH_PREFIX = "If_0_else_branch__Inline_0__"
PRODUCER = "yingda tools/models/convert_silero.py"


class ConvertError(Exception):
    """The source graph is not what this tool was written for, or a check failed."""


# ---------------------------------------------------------------------------------------
# Reference runs


def test_signal(seconds: float = 2.0, seed: int = 20250611) -> np.ndarray:
    """Speech-like float test signal at 8 kHz: a quiet start, noise bursts shaped like
    syllables, a chirp, a 450 Hz tone; fixed seed."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    x = 0.002 * rng.standard_normal(n)
    env = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) * (t > 0.3) * (t < 1.1)
    x += 0.3 * env * np.sin(2 * np.pi * (150 + 60 * np.sin(2 * np.pi * 3 * t)) * t)
    x += 0.1 * env * rng.standard_normal(n)
    x += 0.2 * ((t > 1.2) & (t < 1.6)) * np.sin(2 * np.pi * (300 + 1500 * (t - 1.2)) * (t - 1.2))
    x += 0.2 * (t > 1.7) * np.sin(2 * np.pi * 450 * t)
    return (np.round(np.clip(x, -1, 1) * 32767) / 32768).astype(np.float32)


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    # No graph optimisation: compare the graphs as written.
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def run_stream(model: onnx.ModelProto, signal: np.ndarray, with_sr: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-chunk probabilities and states, as silero-vad's OnnxWrapper streams 8 kHz audio."""
    sess = session(model)
    state = np.zeros(STATE_SHAPE, np.float32)
    context = np.zeros((1, CONTEXT), np.float32)
    probs, states = [], []
    for start in range(0, len(signal) - CHUNK + 1, CHUNK):
        x = np.concatenate([context, signal[None, start:start + CHUNK]], axis=1)
        feeds = {"input": x, "state": state}
        if with_sr:
            feeds["sr"] = np.array(SAMPLE_RATE, np.int64)
        out, state = sess.run(["output", "stateN"], feeds)
        context = x[:, -CONTEXT:]
        probs.append(out.reshape(-1)[0])
        states.append(state.copy())
    return np.array(probs, np.float32), np.array(states, np.float32)


class Reference:
    """The original graph's outputs on the test signal, and the comparison against it."""

    def __init__(self, original: onnx.ModelProto):
        self.signal = test_signal()
        self.probs, self.states = run_stream(original, self.signal, with_sr=True)

    def check(self, model: onnx.ModelProto, label: str) -> float:
        probs, states = run_stream(model, self.signal, with_sr=False)
        err = float(max(np.abs(probs - self.probs).max(), np.abs(states - self.states).max()))
        print(f"  {label:<40} max |diff| vs original {err:.2e} over {len(probs)} chunks", flush=True)
        if not err < MAX_ERROR:
            raise ConvertError(f"{label}: differs from the original graph by {err:.3e} (limit {MAX_ERROR})")
        return err


# ---------------------------------------------------------------------------------------
# Folding


def eval_node(node: onnx.NodeProto, values: dict[str, np.ndarray], opset: int) -> list[np.ndarray]:
    """Run one node in onnx's reference evaluator on concrete inputs."""
    inputs, feeds = [], {}
    for name in node.input:
        if name:
            a = values[name]
            inputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape))
            feeds[name] = a
    outputs = [helper.make_value_info(o, onnx.TypeProto()) for o in node.output if o]
    graph = helper.make_graph([node], "node", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    results = ReferenceEvaluator(model).run(None, feeds)
    return [np.asarray(r) for r in results]


def fold(model: onnx.ModelProto) -> onnx.ModelProto:
    """Fix the input shapes and sr = 8000, evaluate everything static, inline taken If branches."""
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    graph = model.graph
    names = [i.name for i in graph.input]
    if names != ["input", "state", "sr"] or [o.name for o in graph.output] != ["output", "stateN"]:
        raise ConvertError(f"unexpected graph interface: inputs {names}, outputs {[o.name for o in graph.output]}")
    # Concrete values for every tensor ("shadow"), used for shapes and for folding; the
    # dynamic inputs get fixed-seed noise. `const` holds what does not depend on them.
    rng = np.random.default_rng(7)
    shadow: dict[str, np.ndarray] = {
        "input": (0.1 * rng.standard_normal((1, WINDOW))).astype(np.float32),
        "state": (0.1 * rng.standard_normal(STATE_SHAPE)).astype(np.float32),
        "sr": np.array(SAMPLE_RATE, np.int64),
    }
    const: dict[str, np.ndarray] = {"sr": shadow["sr"]}
    for init in graph.initializer:
        shadow[init.name] = const[init.name] = numpy_helper.to_array(init)
    queue = deque(graph.node)
    kept: list[onnx.NodeProto] = []
    while queue:
        node = queue.popleft()
        if node.op_type == "If":
            cond = node.input[0]
            if cond not in const:
                raise ConvertError(f"If node {node.name!r}: condition {cond!r} is not static at 8 kHz")
            take = "then_branch" if bool(const[cond]) else "else_branch"
            branch = next(a.g for a in node.attribute if a.name == take)
            if branch.initializer:
                raise ConvertError(f"If node {node.name!r}: branch initializers are not handled")
            tail = [helper.make_node("Identity", [o.name], [y]) for o, y in zip(branch.output, node.output)]
            queue.extendleft(reversed(list(branch.node) + tail))
            continue
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
            raise ConvertError(f"{node.op_type} node {node.name!r} has a subgraph: not handled")
        outs = eval_node(node, shadow, opset)
        for name, value in zip([o for o in node.output if o], outs):
            shadow[name] = value
        static = node.op_type in ("Shape", "Size") or all(not i or i in const for i in node.input)
        if static:
            for name, value in zip([o for o in node.output if o], outs):
                const[name] = value
        else:
            kept.append(node)
    return assemble(model, kept, const, shadow, ["input", "state"])


def assemble(model: onnx.ModelProto, nodes: list[onnx.NodeProto], const: dict[str, np.ndarray],
             shadow: dict[str, np.ndarray], inputs: list[str]) -> onnx.ModelProto:
    """A model of `nodes` with fixed-shape inputs/outputs; constants they read become initializers."""
    outputs = ["output", "stateN"]
    nodes = collapse_identities(nodes, set(outputs) | set(inputs))
    nodes = live(nodes, outputs)
    initializers, seen = [], set()
    for node in nodes:
        for name in node.input:
            if name and name in const and name not in seen:
                seen.add(name)
                initializers.append(numpy_helper.from_array(np.array(const[name], order="C"), name))
    for name in outputs:
        if name in const:
            raise ConvertError(f"output {name!r} folded to a constant")

    def info(name: str) -> onnx.ValueInfoProto:
        a = shadow[name]
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape))

    graph = helper.make_graph(nodes, "silero_vad_8k", [info(n) for n in inputs], [info(n) for n in outputs],
                              initializer=initializers)
    out = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name=PRODUCER,
                            ir_version=model.ir_version)
    return out


def collapse_identities(nodes: list[onnx.NodeProto], keep: set[str]) -> list[onnx.NodeProto]:
    """Remove Identity nodes, renaming their outputs to their inputs (or, for graph outputs,
    renaming the producer's output)."""
    alias: dict[str, str] = {}

    def resolve(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    rest = []
    for node in nodes:
        if node.op_type == "Identity" and node.output[0] not in keep:
            alias[node.output[0]] = resolve(node.input[0])
            continue
        node = clone(node)
        node.input[:] = [resolve(i) if i else i for i in node.input]
        rest.append(node)
    # An Identity into a graph output: let the producer write the output directly when
    # nothing else reads its value and it is not a graph input.
    readers: dict[str, int] = {}
    for node in rest:
        for i in node.input:
            readers[i] = readers.get(i, 0) + 1
    producer = {o: n for n in rest for o in n.output}
    final = []
    for node in rest:
        if node.op_type == "Identity" and node.input[0] in producer and readers[node.input[0]] == 1 \
                and node.input[0] not in keep:
            src = producer[node.input[0]]
            src.output[:] = [node.output[0] if o == node.input[0] else o for o in src.output]
            continue
        final.append(node)
    return final


def live(nodes: list[onnx.NodeProto], outputs: list[str]) -> list[onnx.NodeProto]:
    """Nodes the outputs depend on, in their original order."""
    needed = set(outputs)
    alive = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            alive.append(node)
            needed.update(i for i in node.input if i)
    return alive[::-1]


def clone(node: onnx.NodeProto) -> onnx.NodeProto:
    c = onnx.NodeProto()
    c.CopyFrom(node)
    return c


# ---------------------------------------------------------------------------------------
# Rewrites for tract (each takes and returns a model; `shapes` maps value names to shapes)


def value_shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if any(not d.HasField("dim_value") for d in dims):
            raise ConvertError(f"shape of {vi.name!r} is not static after folding")
        shapes[vi.name] = tuple(d.dim_value for d in dims)
    for init in model.graph.initializer:
        shapes[init.name] = tuple(init.dims)
    return shapes


def initializer_map(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def add_initializer(model: onnx.ModelProto, value: np.ndarray, new_name: str) -> str:
    """Adds `value` as initializer `new_name` (unless present) and returns the name."""
    if not any(i.name == new_name for i in model.graph.initializer):
        model.graph.initializer.append(numpy_helper.from_array(value, new_name))
    return new_name


def drop_unused_initializers(model: onnx.ModelProto) -> None:
    used = {i for n in model.graph.node for i in n.input}
    keep = [i for i in model.graph.initializer if i.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)


def clamp_slice_ends(model: onnx.ModelProto) -> onnx.ModelProto:
    """Slice ends beyond the dimension (INT64_MAX from `x[a:]`) become the dimension."""
    m = copy_model(model)
    shapes, inits = value_shapes(m), initializer_map(m)
    for node in m.graph.node:
        if node.op_type != "Slice":
            continue
        data, starts, ends = node.input[0], node.input[1], node.input[2]
        axes = inits[node.input[3]] if len(node.input) > 3 and node.input[3] else np.arange(len(inits[starts]))
        end = inits[ends].copy()
        rank = len(shapes[data])
        for k, axis in enumerate(axes):
            dim = shapes[data][int(axis) % rank]
            if end[k] > dim:
                end[k] = dim
        if not np.array_equal(end, inits[ends]):
            node.input[2] = add_initializer(m, end, f"{node.name}/ends_clamped")
    drop_unused_initializers(m)
    return m


def drop_full_slices(model: onnx.ModelProto) -> onnx.ModelProto:
    """A Slice that keeps every element (start 0, end = dimension, step 1) is removed."""
    m = copy_model(model)
    shapes, inits = value_shapes(m), initializer_map(m)
    alias = {}
    nodes = []
    for node in m.graph.node:
        node.input[:] = [alias.get(i, i) for i in node.input]
        if node.op_type == "Slice" and node.output[0] not in ("output", "stateN") \
                and shapes[node.input[0]] == shapes[node.output[0]]:
            steps = inits[node.input[4]] if len(node.input) > 4 and node.input[4] else None
            if steps is None or np.all(steps == 1):
                alias[node.output[0]] = node.input[0]
                continue
        nodes.append(node)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    drop_unused_initializers(m)
    return m


def drop_noop_casts(model: onnx.ModelProto) -> onnx.ModelProto:
    """Cast float -> float is an Identity; remove it."""
    m = copy_model(model)
    inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    elem = {vi.name: vi.type.tensor_type.elem_type
            for vi in list(inferred.graph.value_info) + list(inferred.graph.input)}
    alias = {}
    nodes = []
    for node in m.graph.node:
        node.input[:] = [alias.get(i, i) for i in node.input]
        to = next((a.i for a in node.attribute if a.name == "to"), None)
        if node.op_type == "Cast" and elem.get(node.input[0]) == to and node.output[0] not in ("output", "stateN"):
            alias[node.output[0]] = node.input[0]
            continue
        nodes.append(node)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    return m


def square_by_mul(model: onnx.ModelProto) -> onnx.ModelProto:
    """Pow(x, 2) -> Mul(x, x)."""
    m = copy_model(model)
    inits = initializer_map(m)
    for node in m.graph.node:
        if node.op_type == "Pow" and node.input[1] in inits and inits[node.input[1]].size == 1 \
                and float(inits[node.input[1]].reshape(-1)[0]) == 2.0:
            node.op_type = "Mul"
            node.input[1] = node.input[0]
    drop_unused_initializers(m)
    return m


def drop_lstm_sequence_output(model: onnx.ModelProto) -> onnx.ModelProto:
    """The LSTM's Y output (all time steps) is not read: leave it unnamed."""
    m = copy_model(model)
    used = {i for n in m.graph.node for i in n.input} | {o.name for o in m.graph.output}
    for node in m.graph.node:
        if node.op_type == "LSTM" and node.output[0] and node.output[0] not in used:
            node.output[0] = ""
    return m


def strip_branch_prefix(model: onnx.ModelProto) -> onnx.ModelProto:
    """Drop the If-branch prefix from node, value and initializer names."""
    m = copy_model(model)

    def short(name: str) -> str:
        return name[len(BRANCH_PREFIX):] if name.startswith(BRANCH_PREFIX) else name

    names = [o for n in m.graph.node for o in n.output if o] + [i.name for i in m.graph.initializer]
    if len({short(n) for n in names}) != len(set(names)):
        raise ConvertError("stripping the branch prefix would merge names")
    for node in m.graph.node:
        node.name = short(node.name)
        node.input[:] = [short(i) for i in node.input]
        node.output[:] = [short(o) for o in node.output]
    for init in m.graph.initializer:
        init.name = short(init.name)
    return m


REWRITES = [
    ("clamp Slice ends to the dimension", clamp_slice_ends),
    ("remove Slice keeping the whole tensor", drop_full_slices),
    ("remove float->float Cast", drop_noop_casts),
    ("Pow(x, 2) -> Mul(x, x)", square_by_mul),
    ("drop unused LSTM Y", drop_lstm_sequence_output),
    ("strip If-branch name prefix", strip_branch_prefix),
]


def copy_model(model: onnx.ModelProto) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    return m


def check_static(model: onnx.ModelProto) -> None:
    onnx.checker.check_model(model, full_check=True)
    ops = sorted({n.op_type for n in model.graph.node})
    for bad in ("If", "Loop", "Scan", "Shape", "Size"):
        if bad in ops:
            raise ConvertError(f"{bad} left in the folded graph")
    value_shapes(model)


# ---------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def convert(model_dir: Path) -> Path:
    source = model_dir / SOURCE
    if not source.is_file():
        raise ConvertError(f"{source}: missing (run tools/models/install.py --only silero-vad)")
    digest = sha256_of(source)
    if digest != SOURCE_SHA256:
        raise ConvertError(f"{source}: sha256 expected {SOURCE_SHA256}, actual {digest}")
    original = onnx.load(str(source))
    print(f"{source}: {len(original.graph.node)} top-level nodes, inputs "
          f"{[i.name for i in original.graph.input]}", flush=True)
    reference = Reference(original)
    model = fold(original)
    check_static(model)
    reference.check(model, "If nodes folded for sr=8000")
    for label, rewrite in REWRITES:
        model = rewrite(model)
        check_static(model)
        reference.check(model, label)
    ops: dict[str, int] = {}
    for n in model.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print(f"  {len(model.graph.node)} nodes: " + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())), flush=True)
    data = model.SerializeToString(deterministic=True)
    target = model_dir / OUTPUT
    fd, tmp = tempfile.mkstemp(prefix=f".{OUTPUT}.", suffix=".partial", dir=model_dir)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"{target}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}", flush=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True,
                        help=f"the installed silero-vad directory (holds {SOURCE})")
    args = parser.parse_args(argv)
    try:
        convert(args.model_dir)
    except ConvertError as e:
        print(f"convert_silero.py: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"convert_silero.py: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
