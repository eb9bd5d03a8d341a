#!/usr/bin/env python3
"""Convert Piper `en_US-joe-medium.onnx` (VITS) into two graphs tract runs and optimises.

    convert_piper.py --model-dir /var/lib/yingda/models/piper-joe [--check]

Writes, next to the installed model, atomically (temporary file, fsync, rename) and byte for
byte the same on every run:

- `piper_a.onnx`  text → alignment: phoneme ids [1,T], their count [1], scales [3] and the
  duration noise `noise_w_eps` [1,2,T] → `m_p`, `logs_p` [1,192,T] and `durations`
  [1,1,T] (frames per phoneme, already ceil'ed and scaled by length_scale).
- `piper_b.onnx`  frames → audio: `z_p` [1,192,F] and `y_mask` [1,1,F] → `audio`
  [1,1,1,F*256] (22.05 kHz, in [-1, 1]).

Between the two the runner (firmware/tts/src/piper.rs) repeats column t of m_p/logs_p
durations[t] times and adds the prior noise, z_p = m + eps * exp(logs) * noise_scale — what
the original graph does with a one-hot MatMul and a RandomNormalLike.

Rewrites, each checked against onnxruntime on the original graph by `--check`:

1. RandomNormalLike → graph inputs. Both noises come from the caller, so a seeded run is
   reproducible and tract can be compared with onnxruntime sample for sample.
2. The stochastic duration predictor's rational-quadratic splines (three ConvFlows, run in
   reverse) were exported with boolean-mask indexing: NonZero → GatherND → ScatterND, whose
   shapes depend on data, so tract can neither optimise them nor size them in advance. Each
   spline becomes the same arithmetic evaluated densely at every position (inputs clamped to
   the tail bound so every bin index is valid) and a Where that keeps the identity tails
   outside [-B, B] — exactly what the mask selected. With that, part A is an ordinary
   graph tract optimises for a fixed length like any other.
3. Slice ends computed at run time from an INT64_MAX constant (relative-position attention)
   are clamped to 2^31-1: tract drops the last element otherwise.
4. The graph is cut where its length changes from phonemes to frames. Padding the phoneme
   axis up to a bucket length is exact (every op past the ids is masked by x_mask; padded
   positions get duration 0). Part B has no attention, only convolutions (receptive field 44
   frames each way; past 32 the influence is below f32 rounding), so the runner cuts the frame
   axis into fixed windows with 32 frames of context on both sides: two compiled window sizes
   serve every utterance and audio starts after the first window.
5. Part B: before every Conv/ConvTranspose of the decoder the activation is multiplied by
   y_mask (upsampled to that layer's rate). The flows already mask each layer; the HiFi-GAN
   decoder did not, because the original ran it at the exact length and its zero padding did
   the masking. With the masks, a window that runs past the last frame (or starts before
   frame 0) computes exactly what the unpadded graph computes.

`--check` runs onnxruntime on the original graph (with rewrite 1 only) and on the converted
parts and prints the largest absolute differences; the golden script for the Rust tests
(tools/models/piper_golden.py) reuses `reference_model` and `Noise` from here.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, helper, numpy_helper

SOURCE = "en_US-joe-medium.onnx"
CONFIG = "en_US-joe-medium.onnx.json"
PART_A = "piper_a.onnx"
PART_B = "piper_b.onnx"
INT32_MAX = 2**31 - 1
HOP = 256
HIDDEN = 192

# Tensor names in the exported graph (piper's VITS export, torch 2.0, opset 15).
X_MASK = "/enc_p/Cast_1_output_0"          # [1,1,T] float
M_P = "/enc_p/Split_output_0"              # [1,192,T]
LOGS_P = "/enc_p/Split_output_1"           # [1,192,T]
DURATIONS = "/Ceil_output_0"               # [1,1,T] ceil(exp(logw) * x_mask * length_scale)
Z_P = "/Add_output_0"                      # [1,192,F] m_p + eps * exp(logs_p) * noise_scale
Y_MASK = "/Cast_2_output_0"                # [1,1,F] float
DP_NOISE = "/dp/RandomNormalLike"          # node making the duration noise [1,2,T]
PRIOR_NOISE = "/RandomNormalLike"          # node making the prior noise [1,192,F]
SPLINE_FLOWS = ("/dp/flows.7/", "/dp/flows.5/", "/dp/flows.3/")


class ConvertError(Exception):
    """The graph is not the one this converter was written for."""


# ---------------------------------------------------------------------------------------------
# Noise shared by the golden script and the Rust runner.


class Noise:
    """Standard normal draws from a seed, identical in Python and in piper.rs.

    splitmix64 gives 64-bit words; each pair (u1, u2) of uniforms in (0, 1] (top 53 bits)
    becomes two normals by Box-Muller in f64, r*cos(2*pi*u2) then r*sin(2*pi*u2), rounded to
    f32. The duration noise takes the first 2*T draws, frame-major (eps_w[c][t] = draw[2t+c]);
    the prior noise the next 192*F, also frame-major.
    """

    GOLDEN = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, seed: int):
        self.state = np.uint64(seed)
        self.spare: float | None = None

    def _words(self, n: int) -> np.ndarray:
        idx = np.arange(1, n + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            z = self.state + idx * self.GOLDEN
            self.state = z[-1] if n else self.state
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        return z

    def normal(self, n: int) -> np.ndarray:
        """The next n draws as float32."""
        out = np.empty(n, dtype=np.float64)
        i = 0
        if self.spare is not None and n > 0:
            out[0] = self.spare
            self.spare = None
            i = 1
        pairs = (n - i + 1) // 2
        if pairs:
            w = self._words(2 * pairs).reshape(pairs, 2)
            u = ((w >> np.uint64(11)).astype(np.float64) + 1.0) * (1.0 / (1 << 53))
            r = np.sqrt(-2.0 * np.log(u[:, 0]))
            theta = 2.0 * np.pi * u[:, 1]
            z = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1).reshape(-1)
            take = n - i
            out[i:] = z[:take]
            if take < z.size:
                self.spare = float(z[take])
        return out.astype(np.float32)

    def frames(self, channels: int, frames: int) -> np.ndarray:
        """[1, channels, frames] from the next channels*frames draws, frame-major."""
        return self.normal(channels * frames).reshape(frames, channels).T.reshape(1, channels, frames).copy()


# ---------------------------------------------------------------------------------------------
# Graph helpers.


class Graph:
    """The node list of a model with lookups, and a counter for fresh names."""

    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.g = model.graph
        self.serial = 0

    def producer(self) -> dict[str, onnx.NodeProto]:
        return {o: n for n in self.g.node for o in n.output}

    def node(self, name: str) -> onnx.NodeProto:
        for n in self.g.node:
            if n.name == name:
                return n
        raise ConvertError(f"no node named {name!r}")

    def const(self, name: str) -> np.ndarray:
        for t in self.g.initializer:
            if t.name == name:
                return numpy_helper.to_array(t)
        for n in self.g.node:
            if n.op_type == "Constant" and n.output[0] == name:
                return numpy_helper.to_array(n.attribute[0].t)
        raise ConvertError(f"{name!r} is not a constant")

    def fresh(self, stem: str) -> str:
        self.serial += 1
        return f"/yingda/{stem}_{self.serial}"

    def add_const(self, stem: str, value: np.ndarray) -> str:
        name = self.fresh(stem)
        self.g.initializer.append(numpy_helper.from_array(np.array(value, order="C"), name))
        return name

    def rename_input(self, old: str, new: str) -> None:
        """Make every consumer of tensor `old` read `new` instead."""
        for n in self.g.node:
            for i, x in enumerate(n.input):
                if x == old:
                    n.input[i] = new
        for o in self.g.output:
            if o.name == old:
                raise ConvertError(f"cannot rename graph output {old!r}")


def op(nodes: list, g: Graph, op_type: str, inputs: list[str], stem: str, **attrs) -> str:
    """Append one single-output node to `nodes` and return its output name."""
    out = g.fresh(stem)
    nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
    return out


def prune(model: onnx.ModelProto) -> None:
    """Drop nodes, initializers and value_info that no graph output depends on."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    live_tensors = set()
    live_nodes = set()
    stack = [o.name for o in g.output]
    while stack:
        t = stack.pop()
        if t in live_tensors:
            continue
        live_tensors.add(t)
        n = producer.get(t)
        if n is not None and id(n) not in live_nodes:
            live_nodes.add(id(n))
            stack.extend(x for x in n.input if x)
    kept = [n for n in g.node if id(n) in live_nodes]
    del g.node[:]
    g.node.extend(kept)
    inits = [t for t in g.initializer if t.name in live_tensors]
    del g.initializer[:]
    g.initializer.extend(inits)
    vi = [v for v in g.value_info if v.name in live_tensors]
    del g.value_info[:]
    g.value_info.extend(vi)
    unused = [i.name for i in g.input if i.name not in live_tensors]
    if unused:
        raise ConvertError(f"graph inputs {unused} are no longer used")


def toposort(model: onnx.ModelProto) -> None:
    """Order nodes so each comes after the producers of its inputs (stable otherwise)."""
    g = model.graph
    available = {i.name for i in g.input} | {t.name for t in g.initializer} | {""}
    pending = list(g.node)
    ordered = []
    while pending:
        rest = []
        for n in pending:
            if all(x in available for x in n.input):
                ordered.append(n)
                available.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise ConvertError(f"graph has a cycle or a dangling input near {rest[0].name}")
        pending = rest
    del g.node[:]
    g.node.extend(ordered)


def tensor_input(name: str, dims: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


# ---------------------------------------------------------------------------------------------
# Rewrites.


def noise_as_inputs(g: Graph) -> None:
    """Rewrite 1: the two RandomNormalLike become inputs `noise_w_eps` and `noise_z_eps`.

    `noise_z_eps` is [1,192,N] with any N >= the frame count; the graph uses its first F
    frames (F is only known inside the graph), so a caller can pass noise before knowing F.
    """
    dp = g.node(DP_NOISE)
    prior = g.node(PRIOR_NOISE)
    g.g.input.append(tensor_input("noise_w_eps", [1, 2, "phonemes"]))
    g.g.input.append(tensor_input("noise_z_eps", [1, HIDDEN, "noise_frames"]))
    g.rename_input(dp.output[0], "noise_w_eps")
    nodes: list = []
    like = prior.input[0]  # [1,192,F]
    shape = op(nodes, g, "Shape", [like], "prior_shape")
    frames = op(nodes, g, "Slice", [shape, g.add_const("i2", np.array([2], np.int64)),
                                     g.add_const("i3", np.array([3], np.int64))], "prior_frames")
    sliced = op(nodes, g, "Slice", ["noise_z_eps", g.add_const("zero", np.array([0], np.int64)),
                                    frames, g.add_const("axis2", np.array([2], np.int64))], "prior_noise")
    g.rename_input(prior.output[0], sliced)
    g.g.node.remove(dp)
    at = list(g.g.node).index(prior)
    g.g.node.remove(prior)
    for k, n in enumerate(nodes):
        g.g.node.insert(at + k, n)


def clamp_runtime_slice_ends(g: Graph) -> int:
    """Rewrite 3: INT64_MAX inside run-time Slice ends (built by Concat) → 2^31-1."""
    producer = g.producer()
    constants = {t.name for t in g.g.initializer} | {n.output[0] for n in g.g.node if n.op_type == "Constant"}
    clamped = {}
    count = 0
    for n in g.g.node:
        if n.op_type != "Slice" or n.input[2] in constants:
            continue
        src = producer.get(n.input[2])
        if src is None or src.op_type != "Concat":
            continue
        for i, x in enumerate(src.input):
            if x not in constants:
                continue
            v = g.const(x)
            if v.dtype == np.int64 and (v == np.iinfo(np.int64).max).any():
                if x not in clamped:
                    clamped[x] = g.add_const("slice_end_clamped", np.minimum(v, INT32_MAX).astype(np.int64))
                src.input[i] = clamped[x]
                count += 1
    return count


def densify_spline(g: Graph, prefix: str) -> None:
    """Rewrite 2 for one ConvFlow: the inverse rational-quadratic spline, dense.

    Same arithmetic, in the same order, as the exported graph (VITS transforms.py,
    `unconstrained_rational_quadratic_spline(..., inverse=True, tails="linear")`), but over
    all T positions instead of the NonZero-selected ones.
    """
    x = prefix + "Split_output_1"             # [1,1,T] the half being transformed
    uw = prefix + "Div_output_0"              # [1,1,T,K] unnormalised widths / sqrt(filters)
    uh = prefix + "Div_1_output_0"            # [1,1,T,K] unnormalised heights / sqrt(filters)
    out_old = prefix + "ScatterND_9_output_0"  # [1,1,T] the transformed half
    pad_node = g.node(prefix + "Pad")         # pad(unnormalised derivatives, (1, 1))
    ud = pad_node.input[0]                    # [1,1,T,K-1]
    tail_const = g.node(prefix + "ConstantOfShape_1")  # value log(exp(1 - min_derivative) - 1)
    tail_value = float(numpy_helper.to_array(tail_const.attribute[0].t).reshape(-1)[0])
    # The bound and bin minima as the export wrote them (checked, not assumed).
    def operand(node: str) -> float:
        return float(g.const(g.node(prefix + node).input[1]).reshape(-1)[0])

    bound = operand("Mul_11") / 2.0     # cumwidths * (right - left)
    if operand("Add_7") != -bound:      # ... + left
        raise ConvertError(f"{prefix}: spline interval is not symmetric")
    min_bin = operand("Add_6")          # min_bin_width (= min heights, min derivative)
    eps = operand("Add_15")             # searchsorted's eps on the last knot
    proj = g.const(prefix.replace("/dp/", "dp.").replace("/", ".") + "proj.weight")
    k = (proj.shape[0] + 1) // 3
    if proj.shape[0] != 3 * k - 1:
        raise ConvertError(f"{prefix}: projection has {proj.shape[0]} channels, not 3K-1")

    def c(stem, v, dtype=np.float32):
        return g.add_const(stem, np.asarray(v, dtype=dtype))

    nodes: list = []
    f32 = lambda stem, v: c(stem, v)  # noqa: E731
    # derivatives = min_derivative + softplus(pad(ud, (1,1), value=tail_value))
    pads = c("pads", [0, 0, 0, 1, 0, 0, 0, 1], np.int64)
    ud_p = op(nodes, g, "Pad", [ud, pads, f32("tail", tail_value)], "ud_pad", mode="constant")
    deriv = op(nodes, g, "Add", [op(nodes, g, "Softplus", [ud_p], "softplus"), f32("min_d", min_bin)], "deriv")

    def knots(u, stem):
        """(cumulative knots [..,K+1], bin sizes [..,K]) from unnormalised sizes."""
        s = op(nodes, g, "Softmax", [u], stem + "_softmax", axis=-1)
        s = op(nodes, g, "Mul", [f32(stem + "_scale", 1.0 - min_bin * k), s], stem + "_scaled")
        s = op(nodes, g, "Add", [s, f32(stem + "_min", min_bin)], stem + "_sizes")
        cs = op(nodes, g, "CumSum", [s, c(stem + "_axis", -1, np.int64)], stem + "_cumsum")
        cs = op(nodes, g, "Pad", [cs, c(stem + "_pads", [0, 0, 0, 1, 0, 0, 0, 0], np.int64),
                                  f32(stem + "_zero", 0.0)], stem + "_cumpad", mode="constant")
        cs = op(nodes, g, "Mul", [cs, f32(stem + "_span", 2.0 * bound)], stem + "_cumspan")
        cs = op(nodes, g, "Add", [cs, f32(stem + "_left", -bound)], stem + "_cumleft")
        keep = np.ones(k + 1, dtype=bool)
        keep[0] = keep[-1] = False
        ends = np.zeros(k + 1, dtype=np.float32)
        ends[0], ends[-1] = -bound, bound
        cs = op(nodes, g, "Where", [c(stem + "_keep", keep, bool), cs, f32(stem + "_ends", ends)], stem + "_knots")
        hi = op(nodes, g, "Slice", [cs, c("one", [1], np.int64), c("big", [INT32_MAX], np.int64),
                                    c("last", [-1], np.int64)], stem + "_hi")
        lo = op(nodes, g, "Slice", [cs, c("zero", [0], np.int64), c("minus1", [-1], np.int64),
                                    c("last", [-1], np.int64)], stem + "_lo")
        return cs, op(nodes, g, "Sub", [hi, lo], stem + "_bins")

    cumwidths, widths = knots(uw, "w")
    cumheights, heights = knots(uh, "h")
    # searchsorted(cumheights with last += eps, x): sum(x >= knots) - 1, at x clamped to the
    # interval so the index is a bin even where the result is thrown away.
    eps_vec = np.zeros(k + 1, dtype=np.float32)
    eps_vec[-1] = eps
    locations = op(nodes, g, "Add", [cumheights, f32("eps", eps_vec)], "locations")
    xc = op(nodes, g, "Clip", [x, f32("lo", -bound), f32("hi", bound)], "x_clamped")
    xe = op(nodes, g, "Unsqueeze", [xc, c("axis3", [3], np.int64)], "x_expanded")  # [1,1,T,1]
    ge = op(nodes, g, "GreaterOrEqual", [xe, locations], "ge")
    cnt = op(nodes, g, "ReduceSum", [op(nodes, g, "Cast", [ge], "ge_int", to=TensorProto.INT64),
                                     c("axis", [-1], np.int64)], "count", keepdims=1)
    idx = op(nodes, g, "Sub", [cnt, c("one_i", 1, np.int64)], "bin")  # [1,1,T,1]

    def at(t, stem):
        return op(nodes, g, "GatherElements", [t, idx], stem, axis=-1)  # [1,1,T,1]

    delta = op(nodes, g, "Div", [heights, widths], "delta")
    deriv_next = op(nodes, g, "Slice", [deriv, c("one", [1], np.int64), c("big", [INT32_MAX], np.int64),
                                        c("last", [-1], np.int64)], "deriv_next")
    in_cw = at(cumwidths, "in_cumwidths")
    in_w = at(widths, "in_widths")
    in_ch = at(cumheights, "in_cumheights")  # the original gathers from the eps-shifted copy;
    # bins never index the last knot, so both give the same value.
    in_delta = at(delta, "in_delta")
    in_d = at(deriv, "in_deriv")
    in_d1 = at(deriv_next, "in_deriv_next")
    in_h = at(heights, "in_heights")
    two = f32("two", 2.0)
    dx = op(nodes, g, "Sub", [xe, in_ch], "dx")                                   # Sub_8
    s = op(nodes, g, "Sub", [op(nodes, g, "Add", [in_d1, in_d], "dsum"),         # Add_18
                             op(nodes, g, "Mul", [in_delta, two], "delta2")], "curv")  # Sub_9
    t1 = op(nodes, g, "Mul", [dx, s], "t1")                                       # Mul_27
    a = op(nodes, g, "Add", [t1, op(nodes, g, "Mul", [in_h, op(nodes, g, "Sub", [in_delta, in_d], "dd")], "t2")], "a")
    b = op(nodes, g, "Sub", [op(nodes, g, "Mul", [in_h, in_d], "hd"), t1], "b")
    cc = op(nodes, g, "Mul", [op(nodes, g, "Neg", [in_delta], "neg_delta"), dx], "c")
    disc = op(nodes, g, "Sub", [op(nodes, g, "Pow", [b, two], "b2"),
                                op(nodes, g, "Mul", [op(nodes, g, "Mul", [a, f32("four", 4.0)], "a4"), cc], "ac4")],
              "disc")
    root = op(nodes, g, "Div", [op(nodes, g, "Mul", [cc, two], "c2"),
                                op(nodes, g, "Sub", [op(nodes, g, "Neg", [b], "neg_b"),
                                                     op(nodes, g, "Sqrt", [disc], "sqrt")], "den")], "root")
    y = op(nodes, g, "Add", [op(nodes, g, "Mul", [root, in_w], "rw"), in_cw], "spline")
    y = op(nodes, g, "Squeeze", [y, c("axis3", [3], np.int64)], "spline_sq")  # [1,1,T]
    inside = op(nodes, g, "And", [op(nodes, g, "GreaterOrEqual", [x, f32("lo", -bound)], "ge_lo"),
                                  op(nodes, g, "LessOrEqual", [x, f32("hi", bound)], "le_hi")], "inside")
    out = op(nodes, g, "Where", [inside, y, x], "spline_out")
    g.rename_input(out_old, out)
    g.g.node.extend(nodes)


def split(model: onnx.ModelProto) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """Rewrite 4: part A (phonemes) and part B (frames), pruned to what each needs."""
    a = onnx.ModelProto()
    a.CopyFrom(model)
    ga = a.graph
    del ga.output[:]
    for name, dims in ((M_P, [1, HIDDEN, "phonemes"]), (LOGS_P, [1, HIDDEN, "phonemes"]),
                       (DURATIONS, [1, 1, "phonemes"])):
        ga.output.append(tensor_input(name, dims))
    keep = [i for i in ga.input if i.name != "noise_z_eps"]
    del ga.input[:]
    ga.input.extend(keep)
    prune(a)
    rename_tensor(a, M_P, "m_p")
    rename_tensor(a, LOGS_P, "logs_p")
    rename_tensor(a, DURATIONS, "durations")

    b = onnx.ModelProto()
    b.CopyFrom(model)
    gb = b.graph
    producer = {o: n for n in gb.node for o in n.output}
    # cut: z_p and y_mask become inputs, everything before them goes.
    for t in (Z_P, Y_MASK):
        gb.node.remove(producer[t])
    del gb.input[:]
    gb.input.extend([tensor_input(Z_P, [1, HIDDEN, "frames"]), tensor_input(Y_MASK, [1, 1, "frames"])])
    prune(b)
    rename_tensor(b, Z_P, "z_p")
    rename_tensor(b, Y_MASK, "y_mask")
    rename_tensor(b, "output", "audio")
    del gb.output[:]
    gb.output.append(tensor_input("audio", [1, 1, 1, "samples"]))
    return a, b


def rename_tensor(model: onnx.ModelProto, old: str, new: str) -> None:
    g = model.graph
    for n in g.node:
        for i, x in enumerate(n.input):
            if x == old:
                n.input[i] = new
        for i, x in enumerate(n.output):
            if x == old:
                n.output[i] = new
    for v in list(g.input) + list(g.output) + list(g.value_info):
        if v.name == old:
            v.name = new


def fix_batch(model: onnx.ModelProto) -> None:
    """The runner synthesises one utterance at a time: batch dimensions are 1, not symbols."""
    for v in list(model.graph.input) + list(model.graph.output):
        for d in v.type.tensor_type.shape.dim:
            if d.dim_param == "batch_size":
                d.ClearField("dim_param")
                d.dim_value = 1


def mask_decoder(b: onnx.ModelProto, probe_frames: int = 7) -> int:
    """Rewrite 5: multiply the input of every decoder Conv/ConvTranspose by y_mask at its rate.

    The rate (samples per frame) of each input is found by shape inference at a probe length.
    """
    g = Graph(b)
    probe = onnx.ModelProto()
    probe.CopyFrom(b)
    for i in probe.graph.input:
        i.type.tensor_type.shape.dim[2].ClearField("dim_param")
        i.type.tensor_type.shape.dim[2].dim_value = probe_frames
    del probe.graph.value_info[:]
    inferred = onnx.shape_inference.infer_shapes(probe, data_prop=True)
    lengths = {}
    for v in list(inferred.graph.value_info) + list(inferred.graph.input):
        dims = v.type.tensor_type.shape.dim
        if len(dims) == 3 and dims[2].HasField("dim_value"):
            lengths[v.name] = dims[2].dim_value
    masks = {1: "y_mask"}
    nodes: list = []
    count = 0
    for n in list(g.g.node):
        if not n.name.startswith("/dec/") or n.op_type not in ("Conv", "ConvTranspose"):
            continue
        src = n.input[0]
        if src not in lengths or lengths[src] % probe_frames:
            raise ConvertError(f"{n.name}: cannot tell the rate of its input {src!r}")
        rate = lengths[src] // probe_frames
        if rate not in masks:
            # [1,1,F] → [1,1,F,1] → [1,1,F,rate] → [1,1,F*rate]
            u = op(nodes, g, "Unsqueeze", ["y_mask", g.add_const("axis3", np.array([3], np.int64))], f"mask{rate}_u")
            e = op(nodes, g, "Expand", [u, g.add_const("rate", np.array([1, 1, 1, rate], np.int64))], f"mask{rate}_e")
            masks[rate] = op(nodes, g, "Reshape", [e, g.add_const("flat", np.array([1, 1, -1], np.int64))],
                             f"mask{rate}")
        n.input[0] = op(nodes, g, "Mul", [src, masks[rate]], "masked")
        count += 1
    g.g.node.extend(nodes)
    toposort(b)
    return count


# ---------------------------------------------------------------------------------------------
# The pipeline.


def load_source(model_dir: Path) -> onnx.ModelProto:
    path = model_dir / SOURCE
    try:
        return onnx.load(str(path))
    except (OSError, DecodeError) as e:
        raise ConvertError(f"{path}: cannot load: {e}") from e


def reference_model(source: onnx.ModelProto) -> onnx.ModelProto:
    """The original graph with its noise taken from inputs (rewrite 1 only)."""
    m = onnx.ModelProto()
    m.CopyFrom(source)
    noise_as_inputs(Graph(m))
    toposort(m)
    return m


def convert(source: onnx.ModelProto, decoder_masks: bool = True) -> tuple[onnx.ModelProto, onnx.ModelProto, dict]:
    m = reference_model(source)
    g = Graph(m)
    for prefix in SPLINE_FLOWS:
        densify_spline(g, prefix)
    clamped = clamp_runtime_slice_ends(g)
    toposort(m)
    prune(m)
    a, b = split(m)
    masked = mask_decoder(b) if decoder_masks else 0
    for part in (a, b):
        fix_batch(part)
    for part, name in ((a, "yingda piper part A: phonemes -> alignment"),
                       (b, "yingda piper part B: frames -> audio")):
        part.producer_name = "yingda convert_piper.py"
        part.producer_version = "1"
        part.doc_string = name
        del part.graph.value_info[:]
        part.graph.name = name
        onnx.checker.check_model(part)
        ops = {n.op_type for n in part.graph.node}
        bad = ops & {"NonZero", "GatherND", "ScatterND", "RandomNormalLike"}
        if bad:
            raise ConvertError(f"{name}: still has {sorted(bad)}")
    return a, b, {"slice_ends_clamped": clamped, "decoder_masks": masked}


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def serialize(model: onnx.ModelProto) -> bytes:
    return model.SerializeToString(deterministic=True)


# ---------------------------------------------------------------------------------------------
# The runner's arithmetic in numpy (mirrors firmware/tts/src/piper.rs) and the checks.

WINDOW = 256      # frames of audio one part-B run produces (piper.rs: 64, 128, then 256)
CONTEXT = 32      # frames of context each side, as piper.rs. The receptive field is 44 frames
#                   (flows 4 x 4 layers x 2 = 32, decoder ~12); past 32 the influence is below
#                   f32 rounding (check 4 prints both).


def session(model: onnx.ModelProto):
    import onnxruntime as ort  # noqa: PLC0415

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(serialize(model), opts, providers=["CPUExecutionProvider"])


def expand(m_p: np.ndarray, logs_p: np.ndarray, durations: np.ndarray, noise: Noise,
           noise_scale: float) -> tuple[np.ndarray, int]:
    """z_p [1,192,F] from part A's outputs (what the one-hot MatMul and prior noise did)."""
    d = durations.reshape(-1).astype(np.int64)
    frames = max(int(d.sum()), 1)
    idx = np.repeat(np.arange(d.size), d)
    eps = noise.frames(HIDDEN, frames)
    m = m_p[:, :, idx]
    logs = logs_p[:, :, idx]
    z = m + (eps * np.exp(logs)) * np.float32(noise_scale)
    return z.astype(np.float32), frames


def run_part_b(b_sess, z_p: np.ndarray, window: int | None = WINDOW, context: int = CONTEXT) -> np.ndarray:
    """Audio [n] from z_p, in fixed windows (or whole when window is None)."""
    frames = z_p.shape[2]
    if window is None:
        out = b_sess.run(None, {"z_p": z_p, "y_mask": np.ones((1, 1, frames), np.float32)})[0]
        return out.reshape(-1)
    size = window + 2 * context
    pieces = []
    for start in range(0, frames, window):
        lo = start - context
        z = np.zeros((1, HIDDEN, size), np.float32)
        mask = np.zeros((1, 1, size), np.float32)
        a, b = max(lo, 0), min(lo + size, frames)
        z[:, :, a - lo:b - lo] = z_p[:, :, a:b]
        mask[:, :, a - lo:b - lo] = 1.0
        out = b_sess.run(None, {"z_p": z, "y_mask": mask})[0].reshape(-1)
        n = min(window, frames - start)
        pieces.append(out[context * HOP:(context + n) * HOP])
    return np.concatenate(pieces)


def run_part_a(a_sess, ids: list[int], scales: np.ndarray, eps_w: np.ndarray, pad_to: int | None = None):
    t = len(ids)
    n = pad_to or t
    x = np.zeros((1, n), np.int64)
    x[0, :t] = ids
    e = np.zeros((1, 2, n), np.float32)
    e[:, :, :t] = eps_w
    m, logs, d = a_sess.run(None, {"input": x, "input_lengths": np.array([t], np.int64),
                                   "scales": scales, "noise_w_eps": e})
    return m[:, :, :t], logs[:, :, :t], d[:, :, :t], d[:, :, t:]


def synthesize(a_sess, b_sess, ids: list[int], scales, seed: int, window: int | None = WINDOW,
               pad_to: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    scales = np.asarray(scales, np.float32)
    noise = Noise(seed)
    eps_w = noise.frames(2, len(ids))
    m, logs, d, _ = run_part_a(a_sess, ids, scales, eps_w, pad_to)
    z_p, _ = expand(m, logs, d, noise, float(scales[0]))
    return run_part_b(b_sess, z_p, window), d.reshape(-1)


def reference_synthesize(ref_sess, ids: list[int], scales, seed: int, max_frames: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """onnxruntime on the original graph, fed the same noise as `synthesize`."""
    scales = np.asarray(scales, np.float32)
    noise = Noise(seed)
    eps_w = noise.frames(2, len(ids))
    # The prior noise follows in the same stream; the graph takes the first F frames of it.
    eps_z = noise.frames(HIDDEN, max_frames)
    out = ref_sess.run(None, {"input": np.array([ids], np.int64), "input_lengths": np.array([len(ids)], np.int64),
                              "scales": scales, "noise_w_eps": eps_w, "noise_z_eps": eps_z})
    return out[0].reshape(-1), (out[1].reshape(-1) if len(out) > 1 else None)


def with_durations_output(model: onnx.ModelProto) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    m.graph.output.append(tensor_input(DURATIONS, [1, 1, "phonemes"]))
    return m


def reference_part_a(ref_model: onnx.ModelProto):
    """onnxruntime session of the original graph up to the durations, plus the spline inputs."""
    m = onnx.ModelProto()
    m.CopyFrom(ref_model)
    del m.graph.output[:]
    for name in [M_P, LOGS_P, DURATIONS] + [p + "Split_output_1" for p in SPLINE_FLOWS]:
        m.graph.output.append(helper.make_empty_tensor_value_info(name))
    keep = [i for i in m.graph.input if i.name != "noise_z_eps"]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    prune(m)
    return session(m)


def check(source: onnx.ModelProto, a: onnx.ModelProto, b: onnx.ModelProto) -> None:
    """Each rewrite against onnxruntime on the original graph; prints max abs errors."""
    rng = np.random.default_rng(1)
    original = session(source)
    ref_model = reference_model(source)
    ref = session(with_durations_output(ref_model))
    a_sess, b_sess = session(a), session(b)
    ids = [1, 0] + [int(v) for x in rng.integers(14, 120, 60) for v in (x, 0)] + [2]

    # 1. noise as inputs: with both noise scales 0 the original is deterministic.
    quiet = np.array([0.0, 1.0, 0.0], np.float32)
    o = original.run(None, {"input": np.array([ids], np.int64), "input_lengths": np.array([len(ids)], np.int64),
                            "scales": quiet})[0].reshape(-1)
    r, _ = reference_synthesize(ref, ids, quiet, seed=7)
    print(f"check 1 noise inputs, zero noise: samples {o.size} vs {r.size}, max |err| {np.abs(o - r).max():.3g}")

    # 2. dense splines + clamp + split, whole part B, against the reference with the same noise.
    worst_a = worst_d = 0.0
    for seed, scales in ((1, [0.667, 1.0, 0.8]), (2, [0.667, 1.0, 0.8]), (3, [0.667, 0.8, 1.5]),
                         (4, [1.0, 1.3, 0.3])):
        ref_audio, ref_d = reference_synthesize(ref, ids, scales, seed)
        audio, d = synthesize(a_sess, b_sess, ids, scales, seed, window=None)
        worst_d = max(worst_d, float(np.abs(ref_d - d).max()))
        if audio.size == ref_audio.size:
            worst_a = max(worst_a, float(np.abs(audio - ref_audio).max()))
        else:
            worst_a = float("inf")
    print(f"check 2 converted parts vs original (4 seeds): durations max |err| {worst_d:.3g}, "
          f"audio max |err| {worst_a:.3g}")

    # 2b. the splines' identity tails: large duration noise pushes inputs past the bound.
    dur_ref = reference_part_a(ref_model)
    worst = {M_P: 0.0, LOGS_P: 0.0, DURATIONS: 0.0}
    outside = total = 0
    for seed in range(8):
        scales = np.array([0.667, 1.0, 1.0 + seed], np.float32)
        eps_w = Noise(100 + seed).frames(2, len(ids))
        feeds = {"input": np.array([ids], np.int64), "input_lengths": np.array([len(ids)], np.int64),
                 "scales": scales, "noise_w_eps": eps_w}
        r = dur_ref.run(None, feeds)
        m, logs, d, _ = run_part_a(a_sess, ids, scales, eps_w)
        for name, got, want in ((M_P, m, r[0]), (LOGS_P, logs, r[1]), (DURATIONS, d, r[2])):
            worst[name] = max(worst[name], float(np.abs(got - want).max()))
        for x in r[3:]:
            outside += int((np.abs(x) > 5.0).sum())
            total += x.size
    print(f"check 2b part A vs original, noise_w 1..8 ({outside} of {total} spline inputs outside the bound): "
          f"m_p {worst[M_P]:.3g}, logs_p {worst[LOGS_P]:.3g}, durations {worst[DURATIONS]:.3g}")

    # 3. part A padded to a longer bucket: same outputs, padded durations 0.
    eps_w = Noise(5).frames(2, len(ids))
    scales = np.array([0.667, 1.0, 0.8], np.float32)
    m0, l0, d0, _ = run_part_a(a_sess, ids, scales, eps_w)
    m1, l1, d1, tail = run_part_a(a_sess, ids, scales, eps_w, pad_to=len(ids) + 37)
    print(f"check 3 part A padded +37: m_p {np.abs(m0 - m1).max():.3g}, logs_p {np.abs(l0 - l1).max():.3g}, "
          f"durations {np.abs(d0 - d1).max():.3g}, padded durations max {np.abs(tail).max():.3g}")

    # 4. part B in windows with context vs whole.
    noise = Noise(6)
    z_p, frames = expand(m0, l0, d0, noise, 0.667)
    whole = run_part_b(b_sess, z_p, None)
    for window, context in ((128, CONTEXT), (64, CONTEXT), (64, 44), (64, 16)):
        parts = run_part_b(b_sess, z_p, window, context)
        print(f"check 4 part B windows of {window}+2*{context} frames vs whole ({frames} frames): "
              f"max |err| {np.abs(parts - whole).max():.3g}")

    # 5. why the decoder masks: without them a window past the last frame is not exact.
    unmasked = session(convert(source, decoder_masks=False)[1])
    parts = run_part_b(unmasked, z_p, 64, CONTEXT)
    print(f"check 5 part B without decoder masks, windows of 64+2*{CONTEXT}: max |err| "
          f"{np.abs(parts - whole).max():.3g} (the masks are needed)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="installed piper-joe directory")
    parser.add_argument("--check", action="store_true", help="compare with onnxruntime on the original graph")
    args = parser.parse_args(argv)
    try:
        source = load_source(args.model_dir)
        a, b, stats = convert(source)
        blobs = {PART_A: serialize(a), PART_B: serialize(b)}
        for name, data in blobs.items():
            write_atomic(args.model_dir / name, data)
            print(f"{name}: {len(data)} bytes sha256 {hashlib.sha256(data).hexdigest()}")
        print(f"rewrites: {stats}")
        if args.check:
            check(source, a, b)
    except ConvertError as e:
        print(f"convert_piper.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
