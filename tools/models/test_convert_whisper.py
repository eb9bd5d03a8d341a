#!/usr/bin/env python3
"""Unit tests of convert_whisper.py's model.bin reader and int8 storage, on synthetic data.

    $(tools/models/pyenv.sh) -m unittest tools/models/test_convert_whisper.py

The files are written here from the layout in convert_whisper.py's docstring (the layout of
ctranslate2's ModelSpec._serialize), independently of the reader under test.
"""
import struct
import sys
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import convert_whisper as cw  # noqa: E402

TYPE_IDS = {np.dtype("float32"): 0, np.dtype("int8"): 1, np.dtype("int16"): 2,
            np.dtype("int32"): 3, np.dtype("float16"): 4}


def string(s: str) -> bytes:
    raw = s.encode("utf-8") + b"\0"
    return struct.pack("<H", len(raw)) + raw


def model_bin(variables: dict, aliases: dict | None = None, version: int = 6,
              spec: str = "WhisperSpec", revision: int = 3) -> bytes:
    out = struct.pack("<I", version)
    if version >= 2:
        out += string(spec) + struct.pack("<I", revision)
    out += struct.pack("<I", len(variables))
    for name, value in variables.items():
        if isinstance(value, tuple):  # ("bfloat16", float32 array)
            _, f = value
            data = (f.astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()
            shape, type_id = f.shape, 5
        else:
            data, shape, type_id = value.tobytes(), value.shape, TYPE_IDS[value.dtype]
        out += string(name) + struct.pack("<B", len(shape))
        out += b"".join(struct.pack("<I", d) for d in shape)
        if version >= 4:
            out += struct.pack("<BI", type_id, len(data))
        else:
            item = value.dtype.itemsize
            out += struct.pack("<BI", item, len(data) // item)
        out += data
    if version >= 3:
        aliases = aliases or {}
        out += struct.pack("<I", len(aliases))
        for alias, target in aliases.items():
            out += string(alias) + string(target)
    return out


class ReaderTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(3)
        self.w16 = rng.standard_normal((4, 3)).astype(np.float16)
        self.b32 = rng.standard_normal(5).astype(np.float32)
        self.variables = {
            "decoder/embeddings/weight": self.w16,
            "decoder/layer_norm/beta": self.b32,
            "decoder/num_heads": np.array(8, np.int16),
            "decoder/scale_embeddings": np.array(0, np.int8),
        }

    def test_v6_values_shapes_dtypes_and_aliases(self):
        m = cw.parse_ct2(model_bin(self.variables,
                                   {"decoder/projection/weight": "decoder/embeddings/weight"}))
        self.assertEqual((m.binary_version, m.spec, m.revision), (6, "WhisperSpec", 3))
        self.assertEqual(m.get("decoder/embeddings/weight").dtype, np.float16)
        np.testing.assert_array_equal(m.get("decoder/projection/weight"), self.w16)
        np.testing.assert_array_equal(m.float32("decoder/layer_norm/beta"), self.b32)
        self.assertEqual(m.get("decoder/num_heads").shape, ())
        self.assertEqual(int(m.get("decoder/num_heads")), 8)

    def test_old_versions(self):
        for version in (1, 2, 3):
            v = {"a/weight": np.arange(6, dtype=np.float32).reshape(2, 3),
                 "a/bias": np.arange(3, dtype=np.int8)}
            m = cw.parse_ct2(model_bin(v, {"b/weight": "a/weight"}, version=version))
            np.testing.assert_array_equal(m.get("a/weight"), v["a/weight"])
            np.testing.assert_array_equal(m.get("a/bias"), v["a/bias"])
            self.assertEqual(m.spec, "" if version == 1 else "WhisperSpec")
            self.assertEqual("b/weight" in m.aliases, version >= 3)

    def test_bfloat16_widened(self):
        f = np.array([[1.0, -2.5], [0.15625, 3.0e5]], np.float32)
        m = cw.parse_ct2(model_bin({"x/weight": ("bfloat16", f)}))
        truncated = ((f.view("<u4") >> 16) << 16).view(np.float32)
        np.testing.assert_array_equal(m.get("x/weight"), truncated)

    def test_int8_with_scale_dequantized(self):
        q = np.array([[127, -64], [10, 0]], np.int8)
        scale = np.array([127.0 / 2.0, 10.0], np.float32)  # ctranslate2: value = q / scale
        m = cw.parse_ct2(model_bin({"l/weight": q, "l/weight_scale": scale}))
        np.testing.assert_allclose(m.float32("l/weight"), [[2.0, -64 / 63.5], [1.0, 0.0]])

    def test_errors(self):
        good = model_bin(self.variables)
        cases = {
            "truncated": good[:-3],
            "trailing bytes": good + b"\0",
            "binary version": struct.pack("<I", 7) + good[4:],
        }
        for what, data in cases.items():
            with self.subTest(what), self.assertRaises(cw.FormatError):
                cw.parse_ct2(data)
        bad_size = bytearray(model_bin({"x": np.zeros(3, np.float32)}))
        at = bad_size.index(b"x\0") + 2 + 1 + 4 + 1  # name, rank, dim, type id
        bad_size[at:at + 4] = struct.pack("<I", 8)
        with self.assertRaises(cw.FormatError):
            cw.parse_ct2(bytes(bad_size))
        with self.assertRaises(cw.FormatError):
            cw.parse_ct2(model_bin(self.variables, {"p": "missing/variable"}))


class QuantizeTest(unittest.TestCase):
    def test_per_output_channel_symmetric(self):
        rng = np.random.default_rng(5)
        w = rng.standard_normal((6, 4)).astype(np.float32)
        w[2] = 0.0
        q, scale = cw.quantize_int8(w, channel_axis=1)  # columns are output channels
        self.assertEqual((q.dtype, scale.shape), (np.dtype(np.int8), (4,)))
        self.assertEqual(int(np.max(np.abs(q))), 127)
        np.testing.assert_array_equal(np.max(np.abs(q), axis=0), [127] * 4)
        self.assertLessEqual(float(np.max(np.abs(q * scale - w))), float(np.max(scale)) / 2 + 1e-7)
        q0, s0 = cw.quantize_int8(w, channel_axis=0)  # rows; an all-zero row stays zero
        self.assertEqual(s0.shape, (6, 1))
        self.assertTrue(np.all(q0[2] == 0) and s0[2, 0] == 1.0)


if __name__ == "__main__":
    unittest.main()
