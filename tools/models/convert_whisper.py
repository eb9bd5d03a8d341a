#!/usr/bin/env python3
"""Convert Whisper base from a CTranslate2 model.bin to two ONNX graphs for tract.

    convert_whisper.py --model-dir DIR [--weights int8|f16|f32] [--out-suffix S] [--self-check]

Reads DIR/model.bin and writes DIR/encoder{S}.onnx and DIR/decoder{S}.onnx, each through a
temporary file renamed into place. Same input, same options -> same bytes (no timestamps, no
random names, nodes and initializers in a fixed order).

model.bin layout (CTranslate2 binary versions 1-6, all integers little-endian; read from
ctranslate2's `Model::load` in src/models/model.cc and `ModelSpec._serialize` in
python/ctranslate2/specs/model_spec.py):

    u32 binary_version
    version >= 2: string spec_name, u32 spec_revision
    u32 num_variables, then per variable:
        string name, u8 rank, u32 dims[rank],
        version >= 4: u8 dtype id (0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16), u32 num_bytes
        version <  4: u8 item_size (4 f32, 2 i16, 1 i8), u32 num_elements
        num_bytes of data, row-major
    version >= 3: u32 num_aliases, then per alias: string alias, string target
    string = u16 length (including a trailing NUL), the bytes, the NUL.

Quantized CTranslate2 models keep `<name>_scale` next to an int8/int16 `<name>`, with
value = q / scale (per output row); those are dequantized on read.

The ONNX contract (the Rust runtime is written against it):

encoder: mel f32 [1, 80, T] (T even, 2..3000, no padding to 30 s)
         -> cross_k, cross_v f32 [6, 1, T/2, 512] (per decoder layer, K without bias, V with).
decoder: tokens i64 [B, N], offset i64 scalar (positions already cached), self_k/self_v
         f32 [6, B, P, 512], cross_k/cross_v f32 [6, C, S, 512] with C = 1 or B
         -> logits f32 [B, N, 51865], self_k_out/self_v_out f32 [6, B, P+N, 512].
         Causal among the N new tokens, which see all P cached ones; no padding mask.

Weights are stored compactly and turned into f32 by plain ops that tract folds at load:
  f32  : float32 initializers;
  f16  : float16 initializers + Cast (lossless: model.bin is fp16);
  int8 : per-output-channel symmetric int8 + Cast + Mul by an f32 scale (linear, conv and
         the token embedding; position tables stay f16, vectors f32).
No quantized ONNX ops (DynamicQuantizeLinear/MatMulInteger run ~50x slower in tract). The
1/sqrt(64) attention scale is folded into the query weights.

tract (0.23.9) facts this layout is built on, each measured with tract's Python binding:
- a constant expression is folded at load only when it has at most 2^20 elements and its
  constant inputs have no other consumer (Slice excepted); otherwise the Cast/Mul/pack is
  redone at every run. All layer weights are <= 2^20 elements. The token table (51865 x 512)
  is stored once; the Gather reads the stored initializers and widens only the gathered
  rows, and the logit projection is MatMul(x, Transpose(dequant(Slice(table)))) per chunk
  of 2048 vocabulary rows, then one Concat: every chunk folds and packs at load (never
  Gemm transB=1, ~6x slower in tract). One MatMul on the whole table cost ~0.4 s a step.
- decoder positions are Gather(table, offset + Range(0, N)): a Slice from `offset` gets a
  fresh length symbol and tract's analysis of the residual Adds then never ends.
- tract cannot unify independent symbols B and C in the cross-attention MatMul broadcast
  ("Impossible to unify Sym(B) with Broadcast([Sym(B), Sym(C)])"): the runtime must declare
  cross_k/cross_v as [6, 1, S, 512] (or [6, B, S, 512]) with `with_input_fact` before
  `into_optimized()`. (Gathering rows b mod C instead loads, but tract then fails at run
  time with "Undetermined symbol in expression: C".)
Ops used: Conv, MatMul, Add, Mul, Div, Erf, Softmax, LayerNormalization, Reshape, Transpose,
Concat, Gather, Slice, Unsqueeze, Shape, Range, Greater, Cast.

--self-check runs the written graphs under onnxruntime: KV-cache decoding step by step must
give the logits of one pass (max abs diff < 1e-3) and a batch of 3 against one utterance
(C = 1) must give the logits of three single runs.
"""
from __future__ import annotations

import argparse
import hashlib
import mmap
import os
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
N_MELS = 80
D_MODEL = 512
N_HEADS = 8
D_HEAD = 64
N_LAYERS = 6
N_VOCAB = 51865
N_TEXT_CTX = 448
N_AUDIO_CTX = 1500
LN_EPS = 1e-5
FOLD_ROWS = 2048  # 2048 x 512 = 2^20 elements: the most tract folds at load
MASK_VALUE = -1e9  # additive mask; finite so that 0 * mask stays 0

WEIGHT_MODES = ("int8", "f16", "f32")
# Chosen by the rule "smallest of int8/f16 that keeps accuracy" on the espeak-ng clips
# (see models/whisper-base/manifest.toml).
DEFAULT_WEIGHTS = "int8"


class FormatError(Exception):
    """model.bin is not a CTranslate2 model this reader understands."""


# --------------------------------------------------------------------------------------
# CTranslate2 model.bin reader
# --------------------------------------------------------------------------------------

CT2_DTYPES = {0: np.dtype("<f4"), 1: np.dtype("i1"), 2: np.dtype("<i2"), 3: np.dtype("<i4"),
              4: np.dtype("<f2"), 5: "bfloat16"}
CT2_ITEM_SIZE_DTYPES = {4: np.dtype("<f4"), 2: np.dtype("<i2"), 1: np.dtype("i1")}
CT2_MAX_BINARY_VERSION = 6


@dataclass
class Ct2Model:
    binary_version: int
    spec: str
    revision: int
    variables: dict[str, np.ndarray]  # raw dtypes as stored (bf16 already widened to f32)
    aliases: dict[str, str]

    def get(self, name: str) -> np.ndarray:
        return self.variables[self.aliases.get(name, name)]

    def float32(self, name: str) -> np.ndarray:
        """The variable as float32, dequantized when stored as int8/int16 with a scale."""
        target = self.aliases.get(name, name)
        v = self.variables[target]
        if v.dtype in (np.int8, np.int16) and target + "_scale" in self.variables:
            scale = self.variables[target + "_scale"].astype(np.float32)
            if scale.ndim == 1:
                scale = scale.reshape((-1,) + (1,) * (v.ndim - 1))
            return (v.astype(np.float32) / scale).astype(np.float32)
        return v.astype(np.float32)


class _Reader:
    def __init__(self, buf, path: str):
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise FormatError(f"{self.path}: truncated: wanted {n} bytes at offset {self.pos}, "
                              f"file has {len(self.buf)}")
        view = memoryview(self.buf)[self.pos:self.pos + n]
        self.pos += n
        return view

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def string(self) -> str:
        n = self.u16()
        raw = bytes(self.take(n))
        if n == 0 or raw[-1] != 0:
            raise FormatError(f"{self.path}: string at offset {self.pos - n} lacks its NUL")
        return raw[:-1].decode("utf-8")


def parse_ct2(buf, path: str = "model.bin") -> Ct2Model:
    """Parse the bytes of a CTranslate2 model.bin (bytes, bytearray or mmap)."""
    r = _Reader(buf, path)
    version = r.u32()
    if not 1 <= version <= CT2_MAX_BINARY_VERSION:
        raise FormatError(f"{path}: binary version {version} not in 1..{CT2_MAX_BINARY_VERSION}")
    spec, revision = "", 1
    if version >= 2:
        spec = r.string()
        revision = r.u32()
    variables: dict[str, np.ndarray] = {}
    for _ in range(r.u32()):
        name = r.string()
        rank = r.u8()
        shape = tuple(r.u32() for _ in range(rank))
        if version >= 4:
            type_id = r.u8()
            if type_id not in CT2_DTYPES:
                raise FormatError(f"{path}: variable {name}: unknown dtype id {type_id}")
            dtype = CT2_DTYPES[type_id]
            num_bytes = r.u32()
        else:
            item = r.u8()
            if item not in CT2_ITEM_SIZE_DTYPES:
                raise FormatError(f"{path}: variable {name}: unknown item size {item}")
            dtype = CT2_ITEM_SIZE_DTYPES[item]
            num_bytes = r.u32() * item
        count = int(np.prod(shape, dtype=np.int64))
        width = 2 if dtype == "bfloat16" else dtype.itemsize
        if count * width != num_bytes:
            raise FormatError(f"{path}: variable {name}: shape {shape} needs {count * width} "
                              f"bytes, header says {num_bytes}")
        data = r.take(num_bytes)
        if dtype == "bfloat16":
            bits = np.frombuffer(data, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(data, dtype=dtype)
        if name in variables:
            raise FormatError(f"{path}: variable {name} appears twice")
        variables[name] = arr.reshape(shape)
    aliases: dict[str, str] = {}
    if version >= 3:
        for _ in range(r.u32()):
            alias = r.string()
            target = r.string()
            if target not in variables:
                raise FormatError(f"{path}: alias {alias} -> unknown variable {target}")
            aliases[alias] = target
    if r.pos != len(buf):
        raise FormatError(f"{path}: {len(buf) - r.pos} trailing bytes after the aliases")
    return Ct2Model(version, spec, revision, variables, aliases)


def load_ct2(path: Path) -> Ct2Model:
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    model = parse_ct2(mm, str(path))
    # Copy out of the map so the arrays outlive it.
    model.variables = {k: np.array(v) for k, v in model.variables.items()}
    return model


# --------------------------------------------------------------------------------------
# Whisper weights, named by role
# --------------------------------------------------------------------------------------

def check_whisper(m: Ct2Model) -> None:
    if m.spec != "WhisperSpec":
        raise FormatError(f"spec {m.spec!r}, expected WhisperSpec")
    expect = {
        "encoder/conv1/weight": (D_MODEL, N_MELS, 3),
        "encoder/conv2/weight": (D_MODEL, D_MODEL, 3),
        "encoder/position_encodings/encodings": (N_AUDIO_CTX, D_MODEL),
        "decoder/embeddings/weight": (N_VOCAB, D_MODEL),
        "decoder/position_encodings/encodings": (N_TEXT_CTX, D_MODEL),
        f"encoder/layer_{N_LAYERS - 1}/self_attention/linear_0/weight": (3 * D_MODEL, D_MODEL),
        f"decoder/layer_{N_LAYERS - 1}/attention/linear_1/weight": (2 * D_MODEL, D_MODEL),
    }
    for name, shape in expect.items():
        if name not in m.variables and name not in m.aliases:
            raise FormatError(f"missing variable {name}")
        if m.get(name).shape != shape:
            raise FormatError(f"{name}: shape {m.get(name).shape}, expected {shape}")
    if f"encoder/layer_{N_LAYERS}/ffn/linear_0/weight" in m.variables:
        raise FormatError(f"more than {N_LAYERS} encoder layers: not Whisper base")
    for scope in ("encoder", "decoder"):
        heads = int(m.get(f"{scope}/num_heads"))
        if heads != N_HEADS:
            raise FormatError(f"{scope}/num_heads = {heads}, expected {N_HEADS}")
    if bool(m.get("decoder/scale_embeddings")):
        raise FormatError("decoder/scale_embeddings is set: not a Whisper decoder")
    proj = m.aliases.get("decoder/projection/weight", "decoder/projection/weight")
    if proj != "decoder/embeddings/weight" and not np.array_equal(
            m.get("decoder/projection/weight"), m.get("decoder/embeddings/weight")):
        raise FormatError("decoder/projection/weight is not the embedding table")


# --------------------------------------------------------------------------------------
# Graph building
# --------------------------------------------------------------------------------------

class Graph:
    """Nodes, initializers and compact weights of one ONNX graph, in insertion order."""

    def __init__(self, weights: str):
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.names: set[str] = set()
        self.count = 0
        self.consts: dict[tuple, str] = {}

    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, outputs: int = 1,
           out_names: list[str] | None = None, **attrs) -> str | list[str]:
        hint = hint or op_type.lower()
        outs = out_names or [self.fresh(hint) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.fresh("n_" + hint),
                                           **attrs))
        return outs[0] if len(outs) == 1 else outs

    def init(self, name: str, array: np.ndarray) -> str:
        assert name not in self.names, name
        self.names.add(name)
        # np.array, not np.ascontiguousarray: the latter turns a scalar into shape [1].
        self.inits.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def const(self, values, dtype=np.int64) -> str:
        array = np.asarray(values, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self.consts:
            self.consts[key] = self.init(f"const_{len(self.consts)}", array)
        return self.consts[key]

    # -- weights -----------------------------------------------------------------------

    def vector(self, name: str, v: np.ndarray) -> str:
        """Biases, norms: f32 always (tiny, and exact for fp16 sources)."""
        return self.init(name, v.astype(np.float32))

    def table(self, name: str, w: np.ndarray) -> str:
        """Position tables: f16 + Cast unless f32 mode (exact: the source is fp16)."""
        if self.weights == "f32":
            return self.init(name, w.astype(np.float32))
        stored = self.init(name + "_f16", w.astype(np.float16))
        return self.op("Cast", [stored], name, to=TensorProto.FLOAT)

    def store(self, name: str, w: np.ndarray, channel_axis: int) -> list[str]:
        """The initializers holding `w` in this graph's weights mode (int8: values, scale)."""
        if self.weights == "f32":
            return [self.init(name, w.astype(np.float32))]
        if self.weights == "f16":
            return [self.init(name + "_f16", w.astype(np.float16))]
        q, scale = quantize_int8(w, channel_axis)
        return [self.init(name + "_i8", q), self.init(name + "_scale", scale)]

    def dequant(self, stored: list[str], name: str) -> str:
        """f32 tensor from `store`'s initializers, by ops tract folds at load."""
        if self.weights == "f32":
            return stored[0]
        wide = self.op("Cast", [stored[0]], name + "_wide", to=TensorProto.FLOAT)
        if self.weights == "f16":
            return wide
        return self.op("Mul", [wide, stored[1]], name)

    def weight(self, name: str, w: np.ndarray, channel_axis: int) -> str:
        """A weight with its output channels on `channel_axis`, as an f32 tensor name."""
        return self.dequant(self.store(name, w, channel_axis), name)

    def embedding(self, name: str, table: np.ndarray, tokens: str) -> str:
        """Token rows for `tokens` from the one stored table [vocab, 512]."""
        self.emb_stored = self.store(name, table, 0)
        self.emb_rows = table.shape[0]
        rows = [self.op("Gather", [init, tokens], f"{name}_rows", axis=0)
                for init in self.emb_stored]
        return self.dequant(rows, f"{name}_rows_f32")

    def logits(self, x: str, name: str, out: str) -> str:
        """x @ table.T on the stored embedding table, in vocabulary chunks of FOLD_ROWS rows.

        tract folds a constant expression at load only while it has at most 2^20 elements
        and (except Slice) its constant inputs have no other consumer. A whole-table
        Cast/Mul/Transpose (26.5 M elements, table shared with the Gather) would be redone
        at every decoding step (~0.4 s). Each chunk is a Slice of the stored initializer
        (Slice may read a shared constant), dequantized and transposed to [512, rows]: all
        folded and packed at load, then MatMul per chunk and one Concat of the logits."""
        parts = []
        for i, start in enumerate(range(0, self.emb_rows, FOLD_ROWS)):
            end = min(start + FOLD_ROWS, self.emb_rows)
            sliced = [self.op("Slice", [init, self.const([start]), self.const([end]),
                                        self.const([0])], f"{name}_chunk{i}_stored")
                      for init in self.emb_stored]
            w = self.dequant(sliced, f"{name}_chunk{i}")
            wt = self.op("Transpose", [w], f"{name}_chunk{i}_t", perm=[1, 0])  # [512, rows]
            parts.append(self.op("MatMul", [x, wt], f"{name}_chunk{i}_logits"))
        return self.op("Concat", parts, out_names=[out], axis=-1)

    # -- layers ------------------------------------------------------------------------

    def linear(self, x: str, name: str, w: np.ndarray, b: np.ndarray | None) -> str:
        """x @ w.T + b with w [out, in] stored transposed as [in, out]."""
        wt = self.weight(name + "_wt", np.ascontiguousarray(w.T), channel_axis=1)
        y = self.op("MatMul", [x, wt], name)
        if b is not None and np.any(b != 0):
            y = self.op("Add", [y, self.vector(name + "_b", b)], name + "_add")
        return y

    def layer_norm(self, x: str, name: str, gamma: np.ndarray, beta: np.ndarray) -> str:
        return self.op("LayerNormalization",
                       [x, self.vector(name + "_gamma", gamma), self.vector(name + "_beta", beta)],
                       name, axis=-1, epsilon=LN_EPS)

    def gelu(self, x: str, hint: str) -> str:
        """Exact GELU: 0.5 x (1 + erf(x / sqrt 2))."""
        s = self.op("Div", [x, self.const(np.sqrt(2.0), np.float32)], hint + "_div")
        e = self.op("Erf", [s], hint + "_erf")
        e1 = self.op("Add", [e, self.const(1.0, np.float32)], hint + "_add")
        xe = self.op("Mul", [x, e1], hint + "_mul")
        return self.op("Mul", [xe, self.const(0.5, np.float32)], hint)

    def split_heads(self, x: str, hint: str, perm: list[int]) -> str:
        """[b, t, 512] -> [b, t, 8, 64] -> perm."""
        r = self.op("Reshape", [x, self.const([0, 0, N_HEADS, D_HEAD])], hint + "_heads")
        return self.op("Transpose", [r], hint + "_t", perm=perm)

    def attention(self, q: str, k: str, v: str, hint: str, mask: str | None = None) -> str:
        """q [b, n, 512] (already scaled), k/v [c, s, 512] -> [b, n, 512]."""
        qh = self.split_heads(q, hint + "_q", [0, 2, 1, 3])   # [b, 8, n, 64]
        kh = self.split_heads(k, hint + "_k", [0, 2, 3, 1])   # [c, 8, 64, s]
        vh = self.split_heads(v, hint + "_v", [0, 2, 1, 3])   # [c, 8, s, 64]
        scores = self.op("MatMul", [qh, kh], hint + "_scores")
        if mask is not None:
            scores = self.op("Add", [scores, mask], hint + "_masked")
        probs = self.op("Softmax", [scores], hint + "_probs", axis=-1)
        o = self.op("MatMul", [probs, vh], hint + "_o")        # [b, 8, n, 64]
        o = self.op("Transpose", [o], hint + "_ot", perm=[0, 2, 1, 3])
        return self.op("Reshape", [o, self.const([0, 0, D_MODEL])], hint + "_merged")

    def self_qkv(self, x: str, m: Ct2Model, scope: str, hint: str) -> tuple[str, str, str]:
        """Pre-norm then the fused q/k/v projection of `scope` (a self_attention)."""
        wq, bq, wk, bk, wv, bv = split_qkv(m, scope)
        h = self.layer_norm(x, f"{hint}_ln", m.float32(f"{scope}/layer_norm/gamma"),
                            m.float32(f"{scope}/layer_norm/beta"))
        return (self.linear(h, f"{hint}_q", wq, bq), self.linear(h, f"{hint}_k", wk, bk),
                self.linear(h, f"{hint}_v", wv, bv))

    def attention_block(self, x: str, qkv: tuple[str, str, str], out_w: np.ndarray,
                        out_b: np.ndarray, hint: str, mask: str | None = None) -> str:
        """x + out_proj(attention(q, k, v))."""
        a = self.attention(*qkv, hint, mask)
        a = self.linear(a, f"{hint}_o", out_w, out_b)
        return self.op("Add", [x, a], f"{hint}_res")

    def ffn(self, x: str, m: Ct2Model, scope: str, hint: str) -> str:
        h = self.layer_norm(x, hint + "_ln", m.float32(f"{scope}/layer_norm/gamma"),
                            m.float32(f"{scope}/layer_norm/beta"))
        h = self.linear(h, hint + "_fc1", m.float32(f"{scope}/linear_0/weight"),
                        m.float32(f"{scope}/linear_0/bias"))
        h = self.gelu(h, hint + "_gelu")
        h = self.linear(h, hint + "_fc2", m.float32(f"{scope}/linear_1/weight"),
                        m.float32(f"{scope}/linear_1/bias"))
        return self.op("Add", [x, h], hint + "_res")

    def model(self, name: str, inputs, outputs) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="yingda convert_whisper.py", producer_version="1",
                                  ir_version=8)
        model.doc_string = (f"Whisper base {name}, converted from CTranslate2 model.bin; "
                            f"weights stored as {self.weights}")
        return model


def quantize_int8(w: np.ndarray, channel_axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-output-channel int8: w ~ q * scale, q in [-127, 127].

    The scale keeps singleton axes everywhere but `channel_axis`, so it broadcasts."""
    w = w.astype(np.float32)
    axes = tuple(i for i in range(w.ndim) if i != channel_axis)
    amax = np.max(np.abs(w), axis=axes, keepdims=True)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    if channel_axis == w.ndim - 1:
        scale = scale.reshape(-1)  # [out] broadcasts against [..., out]
    return q, scale


def split_qkv(m: Ct2Model, scope: str) -> tuple[np.ndarray, ...]:
    """Fused self-attention linear_0 -> (wq, bq, wk, bk, wv, bv), query pre-scaled."""
    w = m.float32(f"{scope}/linear_0/weight")
    b = m.float32(f"{scope}/linear_0/bias")
    scale = np.float32(D_HEAD ** -0.5)
    wq, wk, wv = w[:D_MODEL], w[D_MODEL:2 * D_MODEL], w[2 * D_MODEL:]
    bq, bk, bv = b[:D_MODEL], b[D_MODEL:2 * D_MODEL], b[2 * D_MODEL:]
    return wq * scale, bq * scale, wk, bk, wv, bv


def build_encoder(m: Ct2Model, weights: str) -> onnx.ModelProto:
    g = Graph(weights)
    x = g.op("Conv", ["mel", g.weight("conv1_w", m.float32("encoder/conv1/weight"), 0),
                      g.vector("conv1_b", m.float32("encoder/conv1/bias"))],
             "conv1", kernel_shape=[3], pads=[1, 1], strides=[1])
    x = g.gelu(x, "conv1_gelu")
    x = g.op("Conv", [x, g.weight("conv2_w", m.float32("encoder/conv2/weight"), 0),
                      g.vector("conv2_b", m.float32("encoder/conv2/bias"))],
             "conv2", kernel_shape=[3], pads=[1, 1], strides=[2])
    x = g.gelu(x, "conv2_gelu")
    x = g.op("Transpose", [x], "frames", perm=[0, 2, 1])                # [1, S, 512]
    s = g.op("Gather", [g.op("Shape", [x], "frames_shape"), g.const([1])], "s", axis=0)
    pos = g.op("Slice", [g.table("enc_pos", m.float32("encoder/position_encodings/encodings")),
                         g.const([0]), s, g.const([0])], "enc_pos_s")
    x = g.op("Add", [x, pos], "enc_in")
    for i in range(N_LAYERS):
        scope = f"encoder/layer_{i}"
        sa = f"{scope}/self_attention"
        x = g.attention_block(x, g.self_qkv(x, m, sa, f"enc{i}_sa"),
                              m.float32(f"{sa}/linear_1/weight"),
                              m.float32(f"{sa}/linear_1/bias"), f"enc{i}_sa")
        x = g.ffn(x, m, f"{scope}/ffn", f"enc{i}_ffn")
    x = g.layer_norm(x, "enc_ln", m.float32("encoder/layer_norm/gamma"),
                     m.float32("encoder/layer_norm/beta"))
    ks, vs = [], []
    for i in range(N_LAYERS):
        ca = f"decoder/layer_{i}/attention"
        w = m.float32(f"{ca}/linear_1/weight")
        b = m.float32(f"{ca}/linear_1/bias")
        k = g.linear(x, f"dec{i}_cross_k", w[:D_MODEL], b[:D_MODEL])
        v = g.linear(x, f"dec{i}_cross_v", w[D_MODEL:], b[D_MODEL:])
        ks.append(g.op("Unsqueeze", [k, g.const([0])], f"dec{i}_cross_k_u"))
        vs.append(g.op("Unsqueeze", [v, g.const([0])], f"dec{i}_cross_v_u"))
    g.op("Concat", ks, out_names=["cross_k"], axis=0)
    g.op("Concat", vs, out_names=["cross_v"], axis=0)
    f32 = TensorProto.FLOAT
    return g.model(
        "encoder",
        [helper.make_tensor_value_info("mel", f32, [1, N_MELS, "T"])],
        [helper.make_tensor_value_info("cross_k", f32, [N_LAYERS, 1, "S", D_MODEL]),
         helper.make_tensor_value_info("cross_v", f32, [N_LAYERS, 1, "S", D_MODEL])])


def build_decoder(m: Ct2Model, weights: str) -> onnx.ModelProto:
    g = Graph(weights)
    # [vocab, 512], stored once: rows for the tokens here, the logit projection at the end.
    x = g.embedding("embedding", m.float32("decoder/embeddings/weight"), "tokens")                 # [B, N, 512]
    n = g.op("Gather", [g.op("Shape", ["tokens"], "tokens_shape"), g.const(1)], "n", axis=0)
    p = g.op("Gather", [g.op("Shape", ["self_k"], "self_k_shape"), g.const(2)], "p", axis=0)
    # Positions offset + Range(0, N): a Gather whose length tract knows to be N. (A Slice
    # from `offset` to `offset + N` gets a fresh length symbol in tract, and the residual
    # Adds then grow broadcast(Sym, N) expressions exponentially: the load never ends.)
    steps = g.op("Range", [g.const(0), n, g.const(1)], "steps")              # [N]
    positions = g.op("Add", [steps, "offset"], "positions")
    pos = g.op("Gather", [g.table("dec_pos", m.float32("decoder/position_encodings/encodings")),
                          positions], "dec_pos_s", axis=0)                    # [N, 512]
    x = g.op("Add", [x, pos], "dec_in")
    # Causal mask [N, P+N]: new token i (absolute position P+i) sees columns j <= P+i.
    total = g.op("Add", [p, n], "total")
    rows = g.op("Add", [steps, p], "rows")
    cols = g.op("Range", [g.const(0), total, g.const(1)], "cols")
    future = g.op("Greater", [g.op("Unsqueeze", [cols, g.const([0])], "cols_u"),
                              g.op("Unsqueeze", [rows, g.const([1])], "rows_u")], "future")
    mask = g.op("Mul", [g.op("Cast", [future], "future_f", to=TensorProto.FLOAT),
                        g.const(MASK_VALUE, np.float32)], "mask")
    k_outs, v_outs = [], []
    for i in range(N_LAYERS):
        scope = f"decoder/layer_{i}"
        sa = f"{scope}/self_attention"
        q, k, v = g.self_qkv(x, m, sa, f"dec{i}_sa")
        layer = g.const(i)
        past_k = g.op("Gather", ["self_k", layer], f"dec{i}_past_k", axis=0)  # [B, P, 512]
        past_v = g.op("Gather", ["self_v", layer], f"dec{i}_past_v", axis=0)
        k = g.op("Concat", [past_k, k], f"dec{i}_k_all", axis=1)            # [B, P+N, 512]
        v = g.op("Concat", [past_v, v], f"dec{i}_v_all", axis=1)
        k_outs.append(g.op("Unsqueeze", [k, g.const([0])], f"dec{i}_k_out"))
        v_outs.append(g.op("Unsqueeze", [v, g.const([0])], f"dec{i}_v_out"))
        x = g.attention_block(x, (q, k, v), m.float32(f"{sa}/linear_1/weight"),
                              m.float32(f"{sa}/linear_1/bias"), f"dec{i}_sa", mask)

        ca = f"{scope}/attention"
        h = g.layer_norm(x, f"dec{i}_ca_ln", m.float32(f"{ca}/layer_norm/gamma"),
                         m.float32(f"{ca}/layer_norm/beta"))
        scale = np.float32(D_HEAD ** -0.5)
        q = g.linear(h, f"dec{i}_cq", m.float32(f"{ca}/linear_0/weight") * scale,
                     m.float32(f"{ca}/linear_0/bias") * scale)
        ck = g.op("Gather", ["cross_k", layer], f"dec{i}_ck", axis=0)       # [C, S, 512]
        cv = g.op("Gather", ["cross_v", layer], f"dec{i}_cv", axis=0)
        x = g.attention_block(x, (q, ck, cv), m.float32(f"{ca}/linear_2/weight"),
                              m.float32(f"{ca}/linear_2/bias"), f"dec{i}_ca")
        x = g.ffn(x, m, f"{scope}/ffn", f"dec{i}_ffn")
    x = g.layer_norm(x, "dec_ln", m.float32("decoder/layer_norm/gamma"),
                     m.float32("decoder/layer_norm/beta"))
    g.logits(x, "embedding", "logits")
    g.op("Concat", k_outs, out_names=["self_k_out"], axis=0)
    g.op("Concat", v_outs, out_names=["self_v_out"], axis=0)
    f32 = TensorProto.FLOAT
    i64 = TensorProto.INT64
    return g.model(
        "decoder",
        [helper.make_tensor_value_info("tokens", i64, ["B", "N"]),
         helper.make_tensor_value_info("offset", i64, []),
         helper.make_tensor_value_info("self_k", f32, [N_LAYERS, "B", "P", D_MODEL]),
         helper.make_tensor_value_info("self_v", f32, [N_LAYERS, "B", "P", D_MODEL]),
         helper.make_tensor_value_info("cross_k", f32, [N_LAYERS, "C", "S", D_MODEL]),
         helper.make_tensor_value_info("cross_v", f32, [N_LAYERS, "C", "S", D_MODEL])],
        [helper.make_tensor_value_info("logits", f32, ["B", "N", N_VOCAB]),
         helper.make_tensor_value_info("self_k_out", f32, [N_LAYERS, "B", "P_plus_N", D_MODEL]),
         helper.make_tensor_value_info("self_v_out", f32, [N_LAYERS, "B", "P_plus_N", D_MODEL])])


# --------------------------------------------------------------------------------------
# Writing and checking
# --------------------------------------------------------------------------------------

def write_atomic(model: onnx.ModelProto, path: Path) -> str:
    """Serialize, write to a temporary file beside `path`, fsync, rename. Returns sha256."""
    onnx.checker.check_model(model)
    data = model.SerializeToString(deterministic=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return hashlib.sha256(data).hexdigest()


def self_check(encoder: Path, decoder: Path) -> None:
    """KV cache and batch consistency of the written graphs under onnxruntime."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    enc = ort.InferenceSession(str(encoder), opts, providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(str(decoder), opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(7)
    mel = rng.uniform(-0.8, 1.2, size=(1, N_MELS, 200)).astype(np.float32)
    ck, cv = enc.run(None, {"mel": mel})
    assert ck.shape == (N_LAYERS, 1, 100, D_MODEL), ck.shape

    def run(tokens, offset, sk, sv, xk=ck, xv=cv):
        return dec.run(None, {"tokens": tokens, "offset": np.array(offset, np.int64),
                              "self_k": sk, "self_v": sv, "cross_k": xk, "cross_v": xv})

    def empty(b):
        return np.zeros((N_LAYERS, b, 0, D_MODEL), np.float32)

    seq = np.array([[50258, 50259, 50359, 50363, 440, 1723, 307, 257, 1500, 13]], np.int64)
    full, fk, fv = run(seq, 0, empty(1), empty(1))
    # Token by token, then a 4-token prompt followed by 3 + 3 tokens.
    sk, sv, steps = empty(1), empty(1), []
    for t in range(seq.shape[1]):
        lg, sk, sv = run(seq[:, t:t + 1], t, sk, sv)
        steps.append(lg)
    step_diff = float(np.max(np.abs(np.concatenate(steps, axis=1) - full)))
    chunks, sk, sv, off = [], empty(1), empty(1), 0
    for a, b in ((0, 4), (4, 7), (7, 10)):
        lg, sk, sv = run(seq[:, a:b], off, sk, sv)
        chunks.append(lg)
        off = b
    chunk_diff = float(np.max(np.abs(np.concatenate(chunks, axis=1) - full)))
    cache_diff = float(max(np.max(np.abs(sk - fk)), np.max(np.abs(sv - fv))))
    print(f"kv cache: step-by-step vs one pass max|dlogit| {step_diff:.2e}, "
          f"chunks {chunk_diff:.2e}, cache {cache_diff:.2e}")
    assert step_diff < 1e-3 and chunk_diff < 1e-3 and cache_diff < 1e-3

    batch = np.array([[50258, 50259, 50359, 50363, 440, 1723],
                      [50258, 50260, 50359, 50363, 8833, 2131],
                      [50258, 50259, 50359, 50363, 50257, 50257]], np.int64)
    blg, bk, bv = run(batch, 0, empty(3), empty(3))
    singles = [run(batch[i:i + 1], 0, empty(1), empty(1))[0] for i in range(3)]
    batch_diff = float(np.max(np.abs(blg - np.concatenate(singles, axis=0))))
    # One more cached step for the batch, against the single runs continued.
    nxt = np.array([[307], [11], [50257]], np.int64)
    blg2 = run(nxt, 6, bk, bv)[0]
    singles2 = []
    for i in range(3):
        _, sk1, sv1 = run(batch[i:i + 1], 0, empty(1), empty(1))
        singles2.append(run(nxt[i:i + 1], 6, sk1, sv1)[0])
    batch_diff2 = float(np.max(np.abs(blg2 - np.concatenate(singles2, axis=0))))
    # C = B must agree with C = 1 broadcast.
    tiled = run(batch, 0, empty(3), empty(3), np.repeat(ck, 3, axis=1), np.repeat(cv, 3, axis=1))[0]
    tile_diff = float(np.max(np.abs(tiled - blg)))
    print(f"batch: B=3 with C=1 vs three B=1 max|dlogit| {batch_diff:.2e} (cached step "
          f"{batch_diff2:.2e}), C=3 vs C=1 {tile_diff:.2e}")
    assert batch_diff < 1e-3 and batch_diff2 < 1e-3 and tile_diff < 1e-3


def convert(model_dir: Path, weights: str, suffix: str) -> dict[str, tuple[int, str]]:
    m = load_ct2(model_dir / "model.bin")
    check_whisper(m)
    written = {}
    for name, build in (("encoder", build_encoder), ("decoder", build_decoder)):
        path = model_dir / f"{name}{suffix}.onnx"
        digest = write_atomic(build(m, weights), path)
        written[path.name] = (path.stat().st_size, digest)
        print(f"{path}: {path.stat().st_size} bytes, sha256 {digest}", flush=True)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", type=Path, required=True, help="folder holding model.bin")
    ap.add_argument("--weights", choices=WEIGHT_MODES, default=DEFAULT_WEIGHTS,
                    help="how weights are stored (default %(default)s)")
    ap.add_argument("--out-suffix", default="", metavar="S",
                    help="write encoder{S}.onnx, decoder{S}.onnx (default: no suffix)")
    ap.add_argument("--self-check", action="store_true",
                    help="then check KV cache and batch consistency under onnxruntime")
    args = ap.parse_args(argv)
    if "/" in args.out_suffix or os.sep in args.out_suffix:
        ap.error("--out-suffix may not contain a path separator")
    try:
        convert(args.model_dir, args.weights, args.out_suffix)
    except (FormatError, OSError) as e:
        print(f"convert_whisper.py: error: {e}", file=sys.stderr)
        return 1
    if args.self_check:
        self_check(args.model_dir / f"encoder{args.out_suffix}.onnx",
                   args.model_dir / f"decoder{args.out_suffix}.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
