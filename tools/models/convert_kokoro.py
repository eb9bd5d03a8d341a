#!/usr/bin/env python3
"""Convert Kokoro-82M v1.0 (int8 ONNX export of kokoro-onnx) into two graphs tract runs.

    convert_kokoro.py --model-dir DIR [--check]

reads DIR/kokoro-v1.0.int8.onnx and writes, atomically (temporary file + rename) and
byte-for-byte deterministically:

* DIR/kokoro-text.onnx   tokens [1,T] i64, style [1,256], speed [1]
                         -> durations [1,T] i64 (frames per token),
                            prosody [1,640,T] (duration-predictor features),
                            text [1,512,T] (text-encoder features)
* DIR/kokoro-audio.onnx  prosody_aligned [1,640,F], text_aligned [1,512,F], style [1,256],
                         real_frames [1,1,F] (1 real, 0 padding), reversed_frames [F] i64
                         -> audio [F*600] at 24 kHz (the padding's samples to be dropped)

Between the two the caller repeats column t of `prosody` and `text` durations[t] times
(F = sum of durations): that is the alignment matrix of the original graph, built there
from data-dependent shapes (CumSum, Range, a [T,F] one-hot) that cannot be planned ahead;
the firmware does it in Rust (firmware/tts/src/kokoro.rs).

Rewrites, in order; --check runs onnxruntime on the original graph and on the graph after
each step and prints durations differing and the audio's largest error and SNR:

1. ORT-only ops to plain ONNX: `DynamicQuantizeLSTM` -> `LSTM` whose int8 weights are
   dequantised by Cast/Mul/Transpose on constants; `FusedMatMul` -> `Transpose` + `MatMul`.
2. `ConvInteger` / `MatMulInteger` -> `Conv` / `MatMul` in f32. Weights stay int8 in the
   file, zero-point-corrected (every conv weight fits int8 once its uint8 zero point is
   subtracted), with their f32 scale; a Cast + Mul on constants dequantises them and tract
   folds it at load. Activations run in f32; the quantised biases (floor(bias/s)*s) become
   the f32 bias.
3. `STFT` gets a rank-3 signal [1, L, 1] (tract requires the trailing channel axis).
4. Shapes tract can name for any length: stride-2 `ConvTranspose` pads [1,1] +
   output_padding [1] -> pads [1,0]; stride-2 `Conv` pads [1,1] -> [1,0] (the F0/N curves
   are 2F long, the end pad is never read; tract otherwise derives (1+2F)/2 frames).
5. The harmonic source's phase is kept in cycles modulo 1 instead of radians that grow to
   ~1e4 per second of audio (see rewrite_sine_phase).
6. Constant-scale `Resize` -> reshape arithmetic: nearest x2 as Concat+Reshape (tract's
   declutter mis-shapes a 1x1 Conv pulled through an Expand), nearest x300 as
   Expand+Reshape, linear /300 as the mean of the two middle samples of each block.
7. `Slice` ends of INT64_MAX clamped to 2^31-1 (tract drops the last element of a
   runtime Slice ending at INT64_MAX).
8. The iSTFT window normalisation (Greater/NonZero/Gather/ScatterND on the export's
   20-sample window sum) -> one Div of the first 20 samples by a constant.
9. atan2 of the source spectrum: `Greater` -> `GreaterOrEqual` (imag = +0 gives +pi, as
   torch.atan2; tract gave -pi: tones at 4.8/9.6 kHz); a zero real part -> 1e-30 (0/0 was
   NaN on tract's exact zeros); DC/Nyquist imaginary parts zeroed (exactly 0 in torch's
   rfft, +-1e-9 noise flipping the phase by 2 pi in onnxruntime and tract); phase 0 where
   the magnitude is below 1e-7 (bins a constant, unvoiced source leaves empty: rounding
   noise with a random angle in every runtime). Without the last two, tract and
   onnxruntime running the same converted graph agree to only ~21-25 dB SNR; with them
   to ~43-46 dB.
10. Split at the alignment matrix into the text and audio graphs above.
11. Padding-exact audio part (rewrite_masked_norms): instance norms average the real
    frames only, convolutions wider than one frame see zeros past them, the backward LSTM
    pass runs over them only. A plan compiled for P frames then gives, for F <= P real
    frames, the audio of an F-frame plan (onnxruntime: 80 dB SNR between the two), so the
    firmware can compile a few lengths ahead instead of one per utterance.

Why not match the int8 graph bit for bit: it quantises every activation to uint8 at run
time (and the LSTM hidden state at every step), so it is chaotic in its last bits:
nudging the style vector by one float ulp changes its own audio to a waveform SNR of
7-21 dB and pre-rounding durations by up to 0.01 frame. Emulating the activation
quantisation (DynamicQuantizeLinear + DequantizeLinear, tried) lands no closer for that
reason, and tract rejects DequantizeLinear on run-time scales. So the check reports the
waveform SNR against the original for information and the rounding flips of durations.

Needs numpy, onnx and onnxruntime (tools/models/requirements.txt); onnxruntime runs the
audio part twice at 8 and 9 frames to learn each tensor's time length (time_rates), and
every step with --check.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SOURCE = "kokoro-v1.0.int8.onnx"
TEXT_OUT = "kokoro-text.onnx"
AUDIO_OUT = "kokoro-audio.onnx"
INT32_END = 2**31 - 1
# Tensors of the original graph the split is made at.
DURATIONS = "/encoder/Cast_output_0"  # [1,T] i64, frames per token
PROSODY = "/encoder/predictor/text_encoder/Concat_4_output_0"  # [1,T,640]
TEXT_FEATURES = "/encoder/text_encoder/Transpose_2_output_0"  # [1,512,T]
PROSODY_ALIGNED = "/encoder/MatMul_output_0"  # [1,640,F] = prosody^T @ alignment
TEXT_ALIGNED = "/encoder/MatMul_1_output_0"  # [1,512,F] = text @ alignment
SAMPLES_PER_FRAME = 600


class ConversionError(Exception):
    """The source graph is not the one this converter was written for."""


class Graph:
    """A mutable view of an ONNX graph: node list, initialisers as numpy arrays."""

    def __init__(self, model: onnx.ModelProto):
        self.model = model
        g = model.graph
        self.nodes: list[onnx.NodeProto] = list(g.node)
        self.inits: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        self.inputs = list(g.input)
        self.outputs = list(g.output)
        self._counter = 0

    # -- lookup -------------------------------------------------------------------------
    def producers(self) -> dict[str, onnx.NodeProto]:
        return {o: n for n in self.nodes for o in n.output if o}

    def consumers(self) -> dict[str, list[onnx.NodeProto]]:
        c: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        for n in self.nodes:
            for i in n.input:
                if i:
                    c[i].append(n)
        return c

    def const(self, name: str) -> np.ndarray | None:
        return self.inits.get(name)

    def nodes_of(self, op: str) -> list[onnx.NodeProto]:
        return [n for n in self.nodes if n.op_type == op]

    # -- building -----------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        self._counter += 1
        return f"{base}/tract_{self._counter}"

    def add_const(self, base: str, value: np.ndarray) -> str:
        name = self.fresh(base)
        self.inits[name] = np.array(value, order="C")  # keeps 0-d scalars 0-d
        return name

    def node(self, op: str, inputs: list[str], base: str, n_out: int = 1, **attrs) -> list[str]:
        """Makes a node named after `base`; returns its output names."""
        name = self.fresh(base)
        outs = [f"{name}_out{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs

    def rename_uses(self, old: str, new: str) -> None:
        for n in self.nodes:
            for k, i in enumerate(n.input):
                if i == old:
                    n.input[k] = new
        for o in self.outputs:
            if o.name == old:
                o.name = new

    def remove(self, doomed: list[onnx.NodeProto]) -> None:
        ids = {id(n) for n in doomed}
        self.nodes = [n for n in self.nodes if id(n) not in ids]

    # -- finishing ----------------------------------------------------------------------
    def pruned(self) -> tuple[list[onnx.NodeProto], dict[str, np.ndarray], list[onnx.ValueInfoProto]]:
        """The nodes and initialisers the outputs need, nodes in topological order keeping
        the existing order wherever it is already valid (deterministic). Does not modify
        the graph, so checking intermediate steps cannot change the result."""
        prod = self.producers()
        needed: set[str] = set()
        stack = [o.name for o in self.outputs]
        keep: set[int] = set()
        while stack:
            t = stack.pop()
            if t in needed:
                continue
            needed.add(t)
            n = prod.get(t)
            if n is not None and id(n) not in keep:
                keep.add(id(n))
                stack.extend(i for i in n.input if i)
        pending = [n for n in self.nodes if id(n) in keep]
        available = {i.name for i in self.inputs} | set(self.inits) | {""}
        ordered: list[onnx.NodeProto] = []
        while pending:
            rest = []
            for n in pending:
                if all(i in available for i in n.input):
                    ordered.append(n)
                    available.update(n.output)
                else:
                    rest.append(n)
            if len(rest) == len(pending):
                raise ConversionError(f"graph has a cycle or a dangling input at {rest[0].name}")
            pending = rest
        used = {i for n in ordered for i in n.input} | {o.name for o in self.outputs}
        inits = {k: v for k, v in self.inits.items() if k in used}
        inputs = [i for i in self.inputs if i.name in used]
        return ordered, inits, inputs

    def to_model(self, doc: str) -> onnx.ModelProto:
        nodes, inits, inputs = self.pruned()
        g = helper.make_graph(
            nodes,
            self.model.graph.name,
            inputs,
            self.outputs,
            initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()],
        )
        return helper.make_model(
            g,
            opset_imports=list(self.model.opset_import),
            ir_version=self.model.ir_version,
            producer_name="yingda convert_kokoro.py",
            producer_version="1",
            doc_string=doc,
        )

    def copy(self) -> "Graph":
        return Graph(self.to_model(""))


def attr(node: onnx.NodeProto, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def set_attr(node: onnx.NodeProto, name: str, value) -> None:
    for k, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[k]
            break
    if value is not None:
        node.attribute.append(helper.make_attribute(name, value))


def tensor_info(name: str, elem: int, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


# ---------------------------------------------------------------------------------------
# 1. ORT-only ops
# ---------------------------------------------------------------------------------------
def rewrite_dynamic_quantize_lstm(g: Graph) -> str:
    """DynamicQuantizeLSTM (W [D,in,4H] int8, per-direction scale) -> LSTM (W [D,4H,in])."""
    count = 0
    for n in g.nodes_of("DynamicQuantizeLSTM"):
        ins = list(n.input) + [""] * (12 - len(n.input))
        x, w, r, b, seq, h0, c0, p, ws, wzp, rs, rzp = ins
        if seq or p:
            raise ConversionError(f"{n.name}: sequence_lens/peepholes not expected")

        def dequant(q: str, scale: str, zp: str, what: str) -> str:
            qv, sv, zv = g.const(q), g.const(scale), g.const(zp)
            if qv is None or sv is None or zv is None or qv.dtype != np.int8:
                raise ConversionError(f"{n.name}: {what} weights are not constant int8")
            if np.any(zv != 0):
                raise ConversionError(f"{n.name}: {what} zero point is not 0")
            shape = (sv.shape[0], 1, 1) if sv.ndim == 1 else (sv.shape[0], 1, sv.shape[-1])
            s = g.add_const(f"{n.name}/{what}_scale", sv.astype(np.float32).reshape(shape))
            (f,) = g.node("Cast", [q], f"{n.name}/{what}_cast", to=TensorProto.FLOAT)
            (m,) = g.node("Mul", [f, s], f"{n.name}/{what}_dequant")
            (t,) = g.node("Transpose", [m], f"{n.name}/{what}_transpose", perm=[0, 2, 1])
            return t

        wf = dequant(w, ws, wzp, "W")
        rf = dequant(r, rs, rzp, "R")
        lstm = helper.make_node(
            "LSTM", [x, wf, rf, b, "", h0, c0], list(n.output), name=n.name.replace("_quant", ""),
            direction=attr(n, "direction").decode(), hidden_size=attr(n, "hidden_size"),
        )
        g.nodes[g.nodes.index(n)] = lstm
        count += 1
    return f"{count} DynamicQuantizeLSTM -> LSTM"


def rewrite_fused_matmul(g: Graph) -> str:
    count = 0
    for n in g.nodes_of("FusedMatMul"):
        if attr(n, "alpha", 1.0) != 1.0 or attr(n, "transBatchA", 0) or attr(n, "transBatchB", 0):
            raise ConversionError(f"{n.name}: unsupported FusedMatMul attributes")
        a, b = n.input[0], n.input[1]
        if attr(n, "transA", 0):
            (a,) = g.node("Transpose", [a], f"{n.name}/transA", perm=[0, 2, 1])
        if attr(n, "transB", 0):
            (b,) = g.node("Transpose", [b], f"{n.name}/transB", perm=[1, 0])
        g.nodes[g.nodes.index(n)] = helper.make_node("MatMul", [a, b], list(n.output), name=n.name)
        count += 1
    return f"{count} FusedMatMul -> Transpose + MatMul"


# ---------------------------------------------------------------------------------------
# 2. Integer convolutions and matrix products
# ---------------------------------------------------------------------------------------
def rewrite_integer_ops(g: Graph) -> str:
    """X -> DynamicQuantizeLinear -> {Conv,MatMul}Integer -> [Add qbias] -> Cast -> Mul(s)
    becomes X -> {Conv,MatMul}(f32, W = int8 * scale) [+ bias]."""
    prod, cons = g.producers(), g.consumers()
    dequantized: dict[str, str] = {}
    count = defaultdict(int)
    for n in [m for m in g.nodes if m.op_type in ("ConvInteger", "MatMulInteger")]:
        xq, wq, xzp, wzp = (list(n.input) + ["", "", ""])[:4]
        dql = prod.get(xq)
        if dql is None or dql.op_type != "DynamicQuantizeLinear":
            raise ConversionError(f"{n.name}: input is not dynamically quantised")
        x = dql.input[0]
        # Follow the integer result to the Mul that rescales it to f32.
        chain = []
        cur = n
        int_bias = None
        while True:
            nxt = cons[cur.output[0]]
            if len(nxt) != 1:
                raise ConversionError(f"{n.name}: integer result has {len(nxt)} consumers")
            cur = nxt[0]
            chain.append(cur)
            if cur.op_type == "Add":
                prev = chain[-2].output[0] if len(chain) > 1 else n.output[0]
                int_bias = cur.input[1] if cur.input[0] == prev else cur.input[0]
            elif cur.op_type == "Mul":
                break
            elif cur.op_type != "Cast":
                raise ConversionError(f"{n.name}: unexpected {cur.op_type} after the integer op")
        out = chain[-1].output[0]
        bias = None
        if int_bias is not None:
            # qbias = Cast(Floor(Div(bias_f32, scale))) reshaped: recover bias_f32.
            t = int_bias
            while prod.get(t) is not None and prod[t].op_type in ("Reshape", "Cast", "Floor"):
                t = prod[t].input[0]
            div = prod.get(t)
            if div is None or div.op_type != "Div" or g.const(div.input[0]) is None:
                raise ConversionError(f"{n.name}: cannot trace the quantised bias")
            bias = div.input[0]

        # Weights: int8 after subtracting the zero point, times the f32 scale.
        wv, zv = g.const(wq), g.const(wzp)
        if wv is None or zv is None:
            raise ConversionError(f"{n.name}: weights are not constant")
        wscale = None
        for cand in (chain[-1].input[0], chain[-1].input[1]):
            p = prod.get(cand)
            if p is not None and p.op_type == "Mul":
                for s in p.input:
                    if g.const(s) is not None:
                        wscale = g.const(s)
        if wscale is None:
            raise ConversionError(f"{n.name}: cannot find the weight scale")
        corrected = wv.astype(np.int32) - zv.astype(np.int32).reshape(
            zv.shape + (1,) * (wv.ndim - zv.ndim) if n.op_type == "ConvInteger" else zv.shape)
        if corrected.min() < -128 or corrected.max() > 127:
            raise ConversionError(f"{n.name}: weights do not fit int8 after the zero point")
        base = n.name.replace("_quant", "")
        key = (wq, wzp)
        if key not in dequantized:
            w8 = g.add_const(f"{base}/weight_int8", corrected.astype(np.int8))
            if wscale.ndim == 0 or n.op_type == "MatMulInteger":
                sshape = wscale.shape
            else:
                sshape = wscale.shape + (1,) * (wv.ndim - wscale.ndim)
            s = g.add_const(f"{base}/weight_scale", wscale.astype(np.float32).reshape(sshape))
            (wf,) = g.node("Cast", [w8], f"{base}/weight_cast", to=TensorProto.FLOAT)
            (wd,) = g.node("Mul", [wf, s], f"{base}/weight_dequant")
            dequantized[key] = wd
        wd = dequantized[key]

        xin = x

        if n.op_type == "ConvInteger":
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            if attrs.get("auto_pad") == b"NOTSET":
                del attrs["auto_pad"]
            inputs = [xin, wd] + ([bias] if bias else [])
            new = helper.make_node("Conv", inputs, [out], name=base, **attrs)
            g.nodes.append(new)
        else:
            if bias is not None:
                raise ConversionError(f"{n.name}: MatMulInteger with an integer bias")
            g.nodes.append(helper.make_node("MatMul", [xin, wd], [out], name=base))
        g.remove([n] + chain)
        count[n.op_type] += 1
    return ", ".join(f"{v} {k}" for k, v in sorted(count.items())) + \
        " -> f32 Conv/MatMul on int8 weights"


# ---------------------------------------------------------------------------------------
# 3. STFT signal rank
# ---------------------------------------------------------------------------------------
def rewrite_stft_rank(g: Graph) -> str:
    prod = g.producers()
    (stft,) = g.nodes_of("STFT")
    reshape = prod[stft.input[0]]
    if reshape.op_type != "Reshape":
        raise ConversionError("STFT signal does not come from a Reshape")
    one = g.add_const(f"{stft.name}/channel", np.array([1], np.int64))
    (shape3,) = g.node("Concat", [reshape.input[1], one], f"{stft.name}/shape3", axis=0)
    reshape.input[1] = shape3
    return "STFT signal [1,L] -> [1,L,1]"


# ---------------------------------------------------------------------------------------
# 4. One graph for any length
# ---------------------------------------------------------------------------------------
def rewrite_stride2_pads(g: Graph) -> str:
    """Output lengths tract can name for any length: a stride-2 ConvTranspose (k 3, pads
    [1,1], output_padding [1]) gives 2L either way, pads [1,0] say so without output padding;
    a stride-2 Conv (k 3, pads [1,1]) on the F0/N curves (always 2F long) reads the end pad
    never, so pads [1,0] give the same F outputs and tract sees (2F-2)/2+1 = F, not
    (1+2F)/2."""
    convt = conv = 0
    for n in g.nodes_of("ConvTranspose"):
        if attr(n, "strides") == [2] and attr(n, "pads") == [1, 1] and attr(n, "output_padding") == [1]:
            set_attr(n, "pads", [1, 0])
            set_attr(n, "output_padding", None)
            convt += 1
    for n in g.nodes_of("Conv"):
        if attr(n, "strides") == [2] and attr(n, "pads") == [1, 1] and attr(n, "kernel_shape") == [3]:
            set_attr(n, "pads", [1, 0])
            conv += 1
    return (f"{convt} stride-2 ConvTranspose pads [1,1]+output_padding [1] -> pads [1,0]; "
            f"{conv} stride-2 Conv pads [1,1] -> [1,0]")


def rewrite_resize(g: Graph) -> str:
    done = []
    for n in list(g.nodes_of("Resize")):
        scales = g.const(n.input[2]) if len(n.input) > 2 else None
        if scales is None or list(scales[:2]) != [1.0, 1.0] or len(scales) != 3:
            raise ConversionError(f"{n.name}: Resize without constant [1,1,s] scales")
        mode = attr(n, "mode").decode()
        ctm = attr(n, "coordinate_transformation_mode").decode()
        s = float(scales[2])
        x, out = n.input[0], n.output[0]
        b = n.name
        zero_zero_m1 = g.add_const(f"{b}/flat", np.array([0, 0, -1], np.int64))
        if mode == "nearest" and ctm == "asymmetric" and attr(n, "nearest_mode").decode() == "floor" \
                and s == round(s) and s >= 1:
            k = int(s)
            (u,) = g.node("Unsqueeze", [x, g.add_const(f"{b}/ax", np.array([3], np.int64))], b)
            if k <= 4:
                # tract's declutter mis-shapes a 1x1 Conv pulled through an Expand: use Concat.
                (e,) = g.node("Concat", [u] * k, b, axis=3)
            else:
                (e,) = g.node("Expand", [u, g.add_const(f"{b}/rep", np.array([1, 1, 1, k], np.int64))], b)
            g.nodes.append(helper.make_node("Reshape", [e, zero_zero_m1], [out], name=b))
            done.append(f"nearest x{k}")
        elif mode == "linear" and ctm == "half_pixel" and s < 1 and round(1 / s) % 2 == 0:
            # Output i samples input position (i + 0.5) * k - 0.5 = k*i + k/2 - 0.5:
            # the mean of the two middle samples of block i (input length is a multiple of k).
            k = int(round(1 / s))
            (r,) = g.node("Reshape", [x, g.add_const(f"{b}/blocks", np.array([0, 0, -1, k], np.int64))], b)
            (m,) = g.node("Slice", [r, g.add_const(f"{b}/s", np.array([k // 2 - 1], np.int64)),
                                    g.add_const(f"{b}/e", np.array([k // 2 + 1], np.int64)),
                                    g.add_const(f"{b}/a", np.array([3], np.int64))], b)
            g.nodes.append(helper.make_node("ReduceMean", [m, g.add_const(f"{b}/a3", np.array([3], np.int64))],
                                            [out], name=b, keepdims=0))
            done.append(f"linear /{k}")
        else:
            raise ConversionError(f"{n.name}: Resize mode {mode}/{ctm} scale {s} not handled")
        g.remove([n])
    return f"{len(done)} Resize -> reshape arithmetic ({', '.join(done)})"


def rewrite_sine_phase(g: Graph) -> str:
    """The harmonic source integrates phase as radians over the whole utterance,
    sin(interp_x300(cumsum(rad) * 2 * pi * 300)), reaching ~5e4 rad after 5 s where a
    float32 ulp is 0.004 rad: any two runtimes then differ by several ulps of phase at the
    9th harmonic (the 25 dB waveform SNR between tract and onnxruntime on the same graph).
    The same values, kept in cycles modulo 1 before they grow:
        r_k = 300 * rad_k,  v_k = frac(cumsum(frac(r_k)))           (= frac(cumsum(r_k)))
        phase(300k + i) = 2 pi (v_k - a_i * r_k + c_i * r_{k+1})    (interp_x300 weights
    a_i, c_i as in the Resize rewrite; r_0 and r_n are 0, the clamped ends), so the phase
    stays below 10 rad. Same function of F0, fewer rounding errors."""
    prod, cons = g.producers(), g.consumers()
    (cumsum,) = [n for n in g.nodes_of("CumSum") if "l_sin_gen" in n.name]
    chain = [cumsum]
    while chain[-1].op_type != "Sin":
        nxt = cons[chain[-1].output[0]]
        if len(nxt) != 1:
            raise ConversionError(f"{chain[-1].name}: sine phase chain branches")
        chain.append(nxt[0])
    ops = [n.op_type for n in chain]
    if ops != ["CumSum", "Mul", "Mul", "Mul", "Transpose", "Resize", "Transpose", "Sin"]:
        raise ConversionError(f"sine phase chain is {ops}")
    consts = [float(g.const(n.input[1])) for n in chain[1:4]]
    scale = g.const(chain[5].input[2])
    k = int(scale[2])
    if abs(consts[0] * consts[1] - 2 * np.pi) > 1e-5 or consts[2] != k:
        raise ConversionError(f"sine phase scales {consts}, upsampling {k}")
    rad = cumsum.input[0]  # [1, 2F, 9], cycles per sample averaged over each frame
    b = cumsum.name.rsplit("/", 1)[0] + "/wrapped_phase"
    c = lambda name, v: g.add_const(f"{b}/{name}", np.asarray(v))
    (r,) = g.node("Mul", [rad, c("k", np.float32(k))], b)
    (fl,) = g.node("Floor", [r], b)
    (fr,) = g.node("Sub", [r, fl], b)
    (acc,) = g.node("CumSum", [fr, cumsum.input[1]], b)
    (fl2,) = g.node("Floor", [acc], b)
    (v,) = g.node("Sub", [acc, fl2], b)
    (vt,) = g.node("Transpose", [v], b, perm=[0, 2, 1])  # [1, 9, 2F]
    (rt,) = g.node("Transpose", [r], b, perm=[0, 2, 1])
    ax, i0, i1, im1 = c("axis", np.array([2], np.int64)), c("0", np.array([0], np.int64)), \
        c("1", np.array([1], np.int64)), c("-1", np.array([-1], np.int64))
    end = c("end", np.array([INT32_END], np.int64))
    (first,) = g.node("Slice", [rt, i0, i1, ax], b)
    (zero_first,) = g.node("Mul", [first, c("zero", np.float32(0))], b)
    (rest,) = g.node("Slice", [rt, i1, end, ax], b)
    (dprev,) = g.node("Concat", [zero_first, rest], b, axis=2)  # r_k, 0 at k = 0
    (last,) = g.node("Slice", [rt, im1, end, ax], b)
    (zero_last,) = g.node("Mul", [last, c("zero2", np.float32(0))], b)
    (dnext,) = g.node("Concat", [rest, zero_last], b, axis=2)  # r_{k+1}, 0 at the end
    off = (np.arange(k, dtype=np.float64) - (k - 1) / 2) / k
    wa = np.where(off < 0, -off, 0.0).astype(np.float32)
    wc = np.where(off > 0, off, 0.0).astype(np.float32)
    ax3 = c("ax3", np.array([3], np.int64))
    (u0,) = g.node("Unsqueeze", [vt, ax3], b)
    (up,) = g.node("Unsqueeze", [dprev, ax3], b)
    (un,) = g.node("Unsqueeze", [dnext, ax3], b)
    (tp,) = g.node("Mul", [up, c("a", wa)], b)
    (tn,) = g.node("Mul", [un, c("c", wc)], b)
    (y1,) = g.node("Sub", [u0, tp], b)
    (y2,) = g.node("Add", [y1, tn], b)  # [1, 9, 2F, k] cycles
    (y,) = g.node("Reshape", [y2, c("flat", np.array([0, 0, -1], np.int64))], b)
    (ph,) = g.node("Mul", [y, c("two_pi", np.float32(2 * np.pi))], b)
    sin = chain[-1]
    g.nodes.append(helper.make_node("Transpose", [ph], [sin.input[0]], name=b, perm=[0, 2, 1]))
    g.remove(chain[:-1])
    return f"harmonic source phase kept in cycles modulo 1 (was radians up to ~1e4 per second)"


def rewrite_slice_ends(g: Graph) -> str:
    count = 0
    for n in g.nodes_of("Slice"):
        if len(n.input) < 3:
            continue
        ends = g.const(n.input[2])
        if ends is not None and np.any(ends > INT32_END):
            n.input[2] = g.add_const(f"{n.name}/ends", np.minimum(ends, INT32_END).astype(ends.dtype))
            count += 1
    return f"{count} Slice ends INT64_MAX -> 2^31-1"


def rewrite_istft_normalisation(g: Graph) -> str:
    """x[:, i] /= window_sum[i] where window_sum[i] > tiny, for i < len(window_sum) (20):
    the export's window sum covers one frame only, so this touches the first 20 samples.
    Replaced by Concat(x[:, :20] / where(ws > tiny, ws, 1), x[:, 20:])."""
    (scatter,) = g.nodes_of("ScatterND")
    prod = g.producers()
    (nonzero,) = g.nodes_of("NonZero")
    greater = prod[nonzero.input[0]]
    ws_slice = prod[greater.input[0]]
    ws = g.const(ws_slice.input[0])
    tiny = g.const(greater.input[1])
    if greater.op_type != "Greater" or ws is None or tiny is None:
        raise ConversionError("iSTFT normalisation is not the expected pattern")
    divisor = np.where(ws > tiny, ws, np.float32(1.0)).astype(np.float32)[None, :]
    x = scatter.input[0]  # [1, N]
    b = scatter.name
    k = len(ws)
    ax = g.add_const(f"{b}/axis", np.array([1], np.int64))
    (head,) = g.node("Slice", [x, g.add_const(f"{b}/0", np.array([0], np.int64)),
                               g.add_const(f"{b}/k", np.array([k], np.int64)), ax], b)
    (tail,) = g.node("Slice", [x, g.add_const(f"{b}/k2", np.array([k], np.int64)),
                               g.add_const(f"{b}/end", np.array([INT32_END], np.int64)), ax], b)
    (div,) = g.node("Div", [head, g.add_const(f"{b}/window_sum", divisor)], b)
    g.nodes.append(helper.make_node("Concat", [div, tail], [scatter.output[0]], name=b, axis=1))
    g.remove([scatter])
    return f"iSTFT window normalisation NonZero/ScatterND -> Div of the first {k} samples"


# ---------------------------------------------------------------------------------------
# 5. atan2
# ---------------------------------------------------------------------------------------
def rewrite_atan2(g: Graph) -> str:
    prod, cons = g.producers(), g.consumers()
    count = 0
    for atan in g.nodes_of("Atan"):
        # Where(Greater(imag, 0), atan + pi, atan - pi)
        wheres = [w for c in cons[atan.output[0]] for w in cons[c.output[0]] if w.op_type == "Where"]
        for n in {id(w): w for w in wheres}.values():
            cond = prod.get(n.input[0])
            if cond is None or cond.op_type != "Greater":
                continue
            srcs = sorted(prod[i].op_type for i in n.input[1:] if i in prod)
            if srcs == ["Add", "Sub"] and all(atan.output[0] in prod[i].input for i in n.input[1:]):
                cond.op_type = "GreaterOrEqual"
                count += 1
        # atan(imag / real): 0/0 is NaN where tract's STFT gives exact zeros (bins of a
        # constant source); a zero real part becomes 1e-30, so 0/0 -> 0 and x/0 -> +-pi/2
        # as in torch.atan2.
        div = prod[atan.input[0]]
        if div.op_type != "Div":
            raise ConversionError(f"{atan.name}: input is not imag / real")
        imag, real = div.input[0], div.input[1]
        # The imaginary part of the DC and Nyquist bins of a real signal is exactly 0 in
        # torch (rfft), so their phase is 0 or pi; onnxruntime's and tract's DFTs leave
        # +-1e-9 there, flipping the phase between -pi and +pi at random over whole
        # unvoiced stretches. Zero it, as the model was trained.
        (stft,) = g.nodes_of("STFT")
        n_fft = int(g.const(stft.input[3]))
        mask = np.ones((1, n_fft // 2 + 1, 1), np.float32)
        mask[0, 0, 0] = mask[0, -1, 0] = 0.0
        (imag0,) = g.node("Mul", [imag, g.add_const(f"{div.name}/dc_nyquist", mask)], div.name)
        g.rename_uses(imag, imag0)
        g.nodes[-1].input[0] = imag
        zero = g.add_const(f"{div.name}/zero", np.array(0.0, np.float32))
        tiny = g.add_const(f"{div.name}/tiny", np.array(1e-30, np.float32))
        (is0,) = g.node("Equal", [real, zero], div.name)
        (safe,) = g.node("Where", [is0, tiny, real], div.name)
        div.input[1] = safe
        # Bins a constant (unvoiced) source leaves empty hold only rounding noise of
        # ~1e-8, whose phase is a different random angle in every runtime (torch too).
        # Below 1e-7 (0.5% of bins on speech, all of them exactly those) the phase is 0.
        outer = [w for w in g.nodes_of("Where") if atan.output[0] in w.input]
        concat = [c for c in g.nodes_of("Concat") for w in outer if w.output[0] in c.input]
        if len(outer) != 1 or len(concat) != 1 or len(concat[0].input) != 2:
            raise ConversionError(f"{atan.name}: phase is not concatenated with a magnitude")
        phase = outer[0].output[0]
        mag = [i for i in concat[0].input if i != phase][0]
        (small,) = g.node("Less", [mag, g.add_const(f"{div.name}/floor", np.array(1e-7, np.float32))],
                          div.name)
        (gated,) = g.node("Where", [small, zero, phase], div.name)
        concat[0].input[list(concat[0].input).index(phase)] = gated
    if count != 1:
        raise ConversionError(f"expected one atan2 emulation, found {count}")
    return ("atan2 emulation Greater -> GreaterOrEqual (imag = +0 gives +pi), "
            "real = 0 -> 1e-30 (atan2(0, 0) = 0, not NaN), DC/Nyquist imag = 0, "
            "phase 0 where the magnitude is below 1e-7")


def rewrite_masked_norms(g: Graph) -> str:
    """Lets the runner pad an utterance up to a precompiled length and get, for the real
    frames, what the exact length gives. Two new inputs: `real_frames` [1,1,P] f32, 1 for a
    real frame and 0 for padding (real frames first), and `reversed_frames` [P] i64, the
    real frames' indices reversed followed by the padding's in order. A tensor of time
    length L = r*P (+1 after the STFT's centre padding) gets its mask by repeating each
    frame's value r times (and a leading 1).
    * Instance norms (ReduceMean over time, 130 of them) average the real part only:
      mean = ReduceSum(x * mask) / ReduceSum(mask). Padding otherwise shifts every mean and
      variance (1.3-2.7 dB of band-energy distance for 8 padded frames).
    * Every Conv/ConvTranspose over time wider than one frame sees zeros past the real
      part, as the zero padding of the exact length does; otherwise the last real frames
      differ and, through the norms, everything does.
    * The bidirectional LSTM runs its backward pass over the real frames only (below).
    The masks are inputs rather than Range/Less on the frame count (tract's region-of-
    interest pass overflows on those: TDim multiply overflow in guess_slope), and the rate r
    of each tensor is found once here (time_rates) rather than computed from shapes at run
    time (tract cannot type an Expand whose shape is computed)."""
    mask_p = "real_frames"
    sites = [(n, int(g.const(n.input[1])[0])) for n in g.nodes_of("ReduceMean")
             if g.const(n.input[1]) is not None and g.const(n.input[1]).tolist() in ([0], [2])
             and attr(n, "keepdims", 1) == 1]
    sites += [(n, 2) for n in g.nodes if n.op_type in ("Conv", "ConvTranspose") and attr(n, "kernel_shape") != [1]]
    rates = time_rates(g, [(n.input[0], axis) for n, axis in sites])
    c = lambda name, v: g.add_const(f"/masked/{name}", np.asarray(v))
    masks: dict[tuple[int, int, int], str] = {}

    def real_part(x: str, axis: int, b: str) -> str:
        """The mask of x's real part, shaped to broadcast along `axis` of rank-3 x: each
        frame's value repeated r times where x is r*P (+1) long, a leading 1 for the +1."""
        r, extra = rates[x]
        key = (axis, r, extra)
        if key not in masks:
            if axis == 0:
                if (r, extra) != (1, 0):
                    raise ConversionError(f"{x}: time axis 0 of length {r}P+{extra}")
                (m,) = g.node("Reshape", [mask_p, c("column", np.array([-1, 1, 1], np.int64))], "/masked/rate1")
            else:
                m = mask_p
                if r > 1:
                    (u,) = g.node("Unsqueeze", [mask_p, c("ax3", np.array([3], np.int64))], f"/masked/rate{r}")
                    (e,) = g.node("Expand", [u, c(f"rep{r}", np.array([1, 1, 1, r], np.int64))], f"/masked/rate{r}")
                    (m,) = g.node("Reshape", [e, c("flat", np.array([1, 1, -1], np.int64))], f"/masked/rate{r}")
                if extra:
                    lead = c("lead", np.ones((1, 1, extra), np.float32))
                    (m,) = g.node("Concat", [lead, m], f"/masked/rate{r}+{extra}", axis=2)
            masks[key] = m
        if axis == 0:
            return masks[key]
        # Cut to x's own length expression: equal in value, but tract cannot always prove
        # e.g. (1 + 120F) / 6 == 20F after the stride-6 noise convolution.
        (shape,) = g.node("Shape", [x], b)
        (length,) = g.node("Slice", [shape, c("two", np.array([2], np.int64)), c("three", np.array([3], np.int64))], b)
        (cut,) = g.node("Slice", [masks[key], c("zero", np.array([0], np.int64)), length,
                                   c("axis2", np.array([2], np.int64))], b)
        return cut

    norms = 0
    for n, axis in sites:
        if n.op_type != "ReduceMean":
            continue
        b = n.name + "/masked"
        mask = real_part(n.input[0], axis, b)
        (count,) = g.node("ReduceSum", [mask, n.input[1]], b, keepdims=1)
        if axis == 2:
            # sum_t x[c, t] * mask[t] as a matrix product: tract runs a broadcast Mul over
            # an unaligned length ~20x slower than its matmul reads the tensor.
            (column,) = g.node("Reshape", [mask, c("col", np.array([-1, 1], np.int64))], b)
            (total,) = g.node("MatMul", [n.input[0], column], b)
        else:
            (xm,) = g.node("Mul", [n.input[0], mask], b)
            (total,) = g.node("ReduceSum", [xm, n.input[1]], b, keepdims=1)
        g.nodes.append(helper.make_node("Div", [total, count], [n.output[0]], name=b))
        g.remove([n])
        norms += 1
    convs = 0
    for n, _ in sites:
        if n.op_type == "ReduceMean":
            continue
        b = n.name + "/masked"
        mask = real_part(n.input[0], 2, b)
        (xm,) = g.node("Mul", [n.input[0], mask], b)
        n.input[0] = xm
        convs += 1
    lstms = rewrite_lstm_backward_on_valid_frames(g, "reversed_frames")
    g.inputs.append(tensor_info(mask_p, TensorProto.FLOAT, [1, 1, "frames"]))
    g.inputs.append(tensor_info("reversed_frames", TensorProto.INT64, ["frames"]))
    return f"{norms} instance norms and {convs} convolutions over the real frames only; {lstms}"


def time_rates(g: Graph, sites: list[tuple[str, int]]) -> dict[str, tuple[int, int]]:
    """For each (tensor, axis), (r, e) such that its length along axis is r*P + e for P
    frames: onnxruntime runs the graph at P = 8 and 9 (shapes only matter). The only
    place the converter needs onnxruntime."""
    import onnxruntime as ort
    m = g.to_model("")
    names = sorted({x for x, _ in sites})
    for x in names:
        m.graph.output.append(helper.make_tensor_value_info(x, TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.log_severity_level = 3
    session = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    lengths = {}
    for p in (8, 9):
        feed = {"prosody_aligned": np.zeros((1, 640, p), np.float32),
                "text_aligned": np.zeros((1, 512, p), np.float32),
                "style": np.zeros((1, 256), np.float32)}
        for x, out in zip(names, session.run(names, feed)):
            lengths.setdefault(x, []).append(out.shape)
    rates = {}
    for x, axis in sites:
        l8, l9 = lengths[x][0][axis], lengths[x][1][axis]
        r, e = l9 - l8, l8 - 8 * (l9 - l8)
        if r < 1 or e not in (0, 1):
            raise ConversionError(f"{x}: time length {l8} at 8 frames, {l9} at 9")
        rates[x] = (r, e)
    return rates


def rewrite_lstm_backward_on_valid_frames(g: Graph, perm: str) -> str:
    """The bidirectional LSTM over frames (F0/N predictor) would start its backward pass
    in the padding, changing F0 everywhere (up to 130 Hz for 8 padded frames). Split it:
    the forward direction as is (causal, padding at the end cannot reach valid frames);
    the backward direction as a forward LSTM over the valid frames reversed, the padding
    after them: x[perm] with perm (an input) = [frames-1, ..., 0, frames, ..., P-1], an
    involution, so y[perm] puts the outputs back."""
    cons = g.consumers()
    count = 0
    for n in list(g.nodes_of("LSTM")):
        if attr(n, "direction", b"forward") != b"bidirectional":
            continue
        if any(cons.get(o) for o in n.output[1:] if o):
            raise ConversionError(f"{n.name}: final states are used")
        ins = list(n.input) + [""] * (7 - len(n.input))
        x, w, r, bias, seq, h0, c0 = ins[:7]
        if seq:
            raise ConversionError(f"{n.name}: has sequence_lens")
        b = n.name + "/valid"
        hidden = attr(n, "hidden_size")
        first = g.add_const(f"{b}/first", np.array([0], np.int64))
        second = g.add_const(f"{b}/second", np.array([1], np.int64))
        two = g.add_const(f"{b}/two", np.array([2], np.int64))
        ax0 = g.add_const(f"{b}/ax0", np.array([0], np.int64))

        def direction(t: str, lo: str, hi: str) -> str:
            return g.node("Slice", [t, lo, hi, ax0], b)[0] if t else ""

        fwd_in = [direction(t, first, second) for t in (w, r, bias)] + [""] + \
            [direction(t, first, second) for t in (h0, c0)]
        bwd_in = [direction(t, second, two) for t in (w, r, bias)] + [""] + \
            [direction(t, second, two) for t in (h0, c0)]
        (yf,) = g.node("LSTM", [x] + fwd_in, b, direction="forward", hidden_size=hidden)
        (xr,) = g.node("Gather", [x, perm], b, axis=0)
        (ybr,) = g.node("LSTM", [xr] + bwd_in, b, direction="forward", hidden_size=hidden)
        (yb,) = g.node("Gather", [ybr, perm], b, axis=0)
        g.nodes.append(helper.make_node("Concat", [yf, yb], [n.output[0]], name=b, axis=1))
        g.remove([n])
        count += 1
    return f"{count} bidirectional LSTM: backward pass over the valid frames only"


# ---------------------------------------------------------------------------------------
# 6. Split
# ---------------------------------------------------------------------------------------
def split(g: Graph) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    style = [i for i in g.inputs if i.name == "style"]
    text = g.copy()
    (t1,) = text.node("Transpose", [PROSODY], "/split/prosody", perm=[0, 2, 1])
    text.nodes.append(helper.make_node("Identity", [DURATIONS], ["durations"], name="/split/durations"))
    text.nodes.append(helper.make_node("Identity", [t1], ["prosody"], name="/split/prosody_out"))
    text.nodes.append(helper.make_node("Identity", [TEXT_FEATURES], ["text"], name="/split/text_out"))
    text.outputs = [
        tensor_info("durations", TensorProto.INT64, [1, "tokens"]),
        tensor_info("prosody", TensorProto.FLOAT, [1, 640, "tokens"]),
        tensor_info("text", TensorProto.FLOAT, [1, 512, "tokens"]),
    ]
    text.inputs = [
        tensor_info("tokens", TensorProto.INT64, [1, "tokens"]),
        tensor_info("style", TensorProto.FLOAT, [1, 256]),
        tensor_info("speed", TensorProto.FLOAT, [1]),
    ]
    text_model = text.to_model("Kokoro-82M v1.0 text part: tokens -> durations, prosody, text features")

    audio = g.copy()
    prod = audio.producers()
    audio.remove([prod[PROSODY_ALIGNED], prod[TEXT_ALIGNED]])
    audio.rename_uses(PROSODY_ALIGNED, "prosody_aligned")
    audio.rename_uses(TEXT_ALIGNED, "text_aligned")
    audio.inputs = [
        tensor_info("prosody_aligned", TensorProto.FLOAT, [1, 640, "frames"]),
        tensor_info("text_aligned", TensorProto.FLOAT, [1, 512, "frames"]),
    ] + style
    audio.outputs = [tensor_info("audio", TensorProto.FLOAT, ["samples"])]
    audio = Graph(audio.to_model(""))
    masked = rewrite_masked_norms(audio)
    audio_model = audio.to_model("Kokoro-82M v1.0 audio part: aligned features, style, valid frames -> "
                                 "24 kHz audio")
    # Nothing of the token side may leak into the audio part.
    bad = {"tokens", "speed"} & {i for n in audio_model.graph.node for i in n.input}
    if bad:
        raise ConversionError(f"audio part still reads {bad}")
    return text_model, audio_model, masked


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------
def rewrites():
    return [
        ("ORT-only LSTM", rewrite_dynamic_quantize_lstm),
        ("ORT-only FusedMatMul", rewrite_fused_matmul),
        ("integer ops", rewrite_integer_ops),
        ("STFT rank", rewrite_stft_rank),
        ("stride-2 pads", rewrite_stride2_pads),
        ("sine phase", rewrite_sine_phase),
        ("Resize", rewrite_resize),
        ("Slice ends", rewrite_slice_ends),
        ("iSTFT normalisation", rewrite_istft_normalisation),
        ("atan2", rewrite_atan2),
    ]


def convert(source: Path, checker=None) -> tuple[bytes, bytes, list[str]]:
    model = onnx.load(str(source))
    g = Graph(model)
    report = []
    for label, fn in rewrites():
        msg = fn(g)
        if checker is not None:
            msg += checker.full(g.to_model(""))
        report.append(f"{label}: {msg}")
    text_model, audio_model, masked = split(g)
    report.append(f"masked norms: {masked}")
    for m in (text_model, audio_model):
        onnx.checker.check_model(m)
    if checker is not None:
        report.append("split:" + checker.split(text_model, audio_model))
    return text_model.SerializeToString(), audio_model.SerializeToString(), report


class Checker:
    """Runs onnxruntime (one thread) on the original graph and after every rewrite.

    Reports, per case, against the ORIGINAL graph: durations differing, the largest error
    of the pre-rounding durations and of the F0 curve, the audio's waveform SNR and its
    band-energy distance (dB; a different style row of the same voice scores ~11 dB,
    nudging the style by one ulp ~0.6-1 dB); and against the PREVIOUS step, the audio's
    largest error, so each rewrite's own effect shows."""

    # Fixed inputs: a Mandarin and an English phoneme string (misaki format).
    CASES = [
        ("zh", "ni↗nxau↓, xwa→ni↗ŋ ꭧɨ↘tjɛ↘n ɻə↗nmi↗n i→ɥɛ↘n, ʨʰi↓ŋ a↘n i→xau↘ ʨjɛ↘n y↘ɥe→ kwa↘xau↘.",
         "zf_xiaoxiao"),
        ("en", "θˈæŋk ju fɔɹ kˈɔlɪŋ. plˈiz hˈOld wˌIl wi kənˈɛkt ju tə ðə nˈɛkst əvˈAləbᵊl ˈAʤᵊnt.",
         "af_heart"),
    ]
    TAPS = {"raw_durations": ("/encoder/Div_output_0", TensorProto.FLOAT),
            "durations": (DURATIONS, TensorProto.INT64),
            "f0": ("/encoder/Reshape_output_0", TensorProto.FLOAT)}

    def __init__(self, model_dir: Path):
        import json
        import onnxruntime as ort
        self.ort = ort
        vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        self.feeds = []
        for name, ps, voice in self.CASES:
            ids = [vocab[c] for c in ps]
            pack = np.fromfile(model_dir / "voices" / f"{voice}.bin", dtype=np.float32).reshape(510, 256)
            self.feeds.append((name, {
                "tokens": np.array([[0] + ids + [0]], np.int64),
                "style": pack[len(ids) - 1][None, :].copy(),
                "speed": np.array([1.0], np.float32),
            }))
        original = onnx.load(str(model_dir / SOURCE))
        self.reference = [self._run(original, f) for _, f in self.feeds]
        self.previous = self.reference

    def _session(self, model: onnx.ModelProto):
        so = self.ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        return self.ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])

    def _run(self, model: onnx.ModelProto, feed: dict) -> dict[str, np.ndarray]:
        m = onnx.ModelProto()
        m.CopyFrom(model)
        for name, kind in self.TAPS.values():
            m.graph.output.append(helper.make_tensor_value_info(name, kind, None))
        names = ["audio"] + [t for t, _ in self.TAPS.values()]
        out = self._session(m).run(names, feed)
        return dict(zip(["audio", *self.TAPS], out))

    @staticmethod
    def band_db(x: np.ndarray) -> np.ndarray:
        """10 log10 energy in 20 bands of 600 Hz per 25 ms frame (Hann), as the Rust test."""
        n = len(x) // 600
        frames = x[: n * 600].reshape(n, 600).astype(np.float64) * np.hanning(600)
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        return 10 * np.log10(power[:, 1:301].reshape(n, 20, 15).sum(-1) + 1e-9)

    @classmethod
    def band_distance(cls, a: np.ndarray, b: np.ndarray, da: np.ndarray, db: np.ndarray) -> float:
        """Mean |dB| difference over frames within 40 dB of the loudest, frames paired
        token by token (the k-th frame of token t in both), so a duration that rounded the
        other way shifts nothing after it."""
        A, B = cls.band_db(a), cls.band_db(b)
        da, db = np.ravel(da), np.ravel(db)
        ca, cb = np.concatenate([[0], np.cumsum(da)]), np.concatenate([[0], np.cumsum(db)])
        pairs = [(ca[t] + k, cb[t] + k) for t in range(min(len(da), len(db))) for k in range(min(da[t], db[t]))]
        ia = np.array([p[0] for p in pairs if p[0] < len(A) and p[1] < len(B)])
        ib = np.array([p[1] for p in pairs if p[0] < len(A) and p[1] < len(B)])
        A, B = A[ia], B[ib]
        energy = 10 * np.log10((10 ** (A / 10)).sum(1))
        keep = energy > energy.max() - 40
        return float(np.abs(A[keep] - B[keep]).mean())

    @staticmethod
    def max_err(a: np.ndarray, b: np.ndarray) -> float:
        n = min(a.size, b.size)
        return float(np.max(np.abs(a.ravel()[:n] - b.ravel()[:n]))) if n else float("nan")

    def compare(self, ref: dict, prev: dict, got: dict) -> str:
        dref, dgot = ref["durations"], got["durations"]
        a, g = ref["audio"], got["audio"]
        n = min(len(a), len(g))
        noise = float(np.sum((a[:n] - g[:n]).astype(np.float64) ** 2))
        snr = 10 * np.log10(float(np.sum(a[:n].astype(np.float64) ** 2)) / max(noise, 1e-30))
        differ = int(np.sum(dref != dgot)) if dref.shape == dgot.shape else -1
        parts = [f"{differ} durations differ",
                 f"raw durations err {self.max_err(ref['raw_durations'], got['raw_durations']):.1e}"]
        if "f0" in got:
            parts.append(f"F0 err {self.max_err(ref['f0'], got['f0']):.1e} Hz")
        parts += [f"audio SNR {snr:.1f} dB, band distance {self.band_distance(a, g, dref, dgot):.2f} dB",
                  f"vs previous step audio err {self.max_err(prev['audio'], g):.1e}"]
        return ", ".join(parts)

    def _report(self, results: list[dict]) -> str:
        lines = [f"{name}: " + self.compare(ref, prev, got)
                 for (name, _), ref, prev, got in zip(self.feeds, self.reference, self.previous, results)]
        self.previous = results
        return "\n    " + "\n    ".join(lines)

    def full(self, model: onnx.ModelProto) -> str:
        return self._report([self._run(model, feed) for _, feed in self.feeds])

    def split(self, text: onnx.ModelProto, audio: onnx.ModelProto) -> str:
        m = onnx.ModelProto()
        m.CopyFrom(text)
        m.graph.output.append(helper.make_tensor_value_info(self.TAPS["raw_durations"][0], TensorProto.FLOAT, None))
        ts, aus = self._session(m), self._session(audio)
        results = []
        for _, feed in self.feeds:
            dur, pros, txt, raw = ts.run(["durations", "prosody", "text", self.TAPS["raw_durations"][0]], feed)
            idx = np.repeat(np.arange(dur.shape[1]), dur[0])
            (wave,) = aus.run(["audio"], {"prosody_aligned": pros[:, :, idx], "text_aligned": txt[:, :, idx],
                                          "style": feed["style"], **real_frames(len(idx), len(idx))})
            results.append({"audio": wave, "durations": dur, "raw_durations": raw})
        return self._report(results)


def real_frames(frames: int, padded: int) -> dict[str, np.ndarray]:
    """The audio part's `real_frames` and `reversed_frames` inputs for `frames` real frames
    padded to `padded`."""
    mask = np.zeros((1, 1, padded), np.float32)
    mask[..., :frames] = 1.0
    order = np.concatenate([np.arange(frames)[::-1], np.arange(frames, padded)]).astype(np.int64)
    return {"real_frames": mask, "reversed_frames": order}


def write_atomically(path: Path, data: bytes) -> None:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True,
                        help=f"installed kokoro-82m directory holding {SOURCE}; outputs are written there")
    parser.add_argument("--check", action="store_true",
                        help="compare every rewrite with onnxruntime on the original graph (slow)")
    args = parser.parse_args(argv)
    source = args.model_dir / SOURCE
    if not source.is_file():
        print(f"convert_kokoro.py: error: {source}: missing", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    try:
        checker = Checker(args.model_dir) if args.check else None
        text, audio, report = convert(source, checker)
    except ConversionError as e:
        print(f"convert_kokoro.py: error: {source}: {e}", file=sys.stderr)
        return 1
    for line in report:
        print(line)
    for name, data in ((TEXT_OUT, text), (AUDIO_OUT, audio)):
        write_atomically(args.model_dir / name, data)
        print(f"{name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    print(f"source {SOURCE}: {source.stat().st_size} bytes; done in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
