#!/usr/bin/env python3
"""Tests for install.py without a network: fake wheels and npm tarballs built in a temp dir,
installed through --offline-cache. Run by firmware/speech/tests/speech_models_installer.rs.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import install  # noqa: E402

PART1 = bytes(range(256)) * 40 + b"first-half-end"
PART2 = b"second-half" + bytes(reversed(range(256))) * 33
VOCAB = "hello\nworld\n".encode()
VOICE = b"\x00\x01\x02voice" * 100
WHOLE = PART1 + PART2


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Fixture:
    """A manifests dir, an offline cache with two wheels and one npm tarball, a models dir."""

    def __init__(self, root: Path):
        self.root = root
        self.cache = root / "cache"
        self.manifests = root / "manifests"
        self.models = root / "models"
        self.cache.mkdir()
        (self.manifests / "toy").mkdir(parents=True)
        self.wheel1 = self.cache / "toy_model_part1-1.0.0-py3-none-any.whl"
        self.wheel2 = self.cache / "toy_model_part2-1.0.0-py3-none-any.whl"
        self.tgz = self.cache / "toy-voices-0.2.0.tgz"
        with zipfile.ZipFile(self.wheel1, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("toy_model_part1/data/model.bin.part1", PART1)
            z.writestr("toy_model_part1/data/vocab.txt", VOCAB)
        with zipfile.ZipFile(self.wheel2, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("toy_model_part2/data/model.bin.part2", PART2)
        with tarfile.open(self.tgz, "w:gz") as t:
            info = tarfile.TarInfo("package/voices/v1.bin")
            info.size = len(VOICE)
            t.addfile(info, io.BytesIO(VOICE))
        self.write_manifest()

    def write_manifest(self, *, model_sha=None, model_size=None, member2="toy_model_part2/data/model.bin.part2",
                       archive_sha1=None, path="model.bin", extra="") -> None:
        a1 = archive_sha1 or sha(self.wheel1.read_bytes())
        text = f"""
name = "toy"
licence = "MIT"
sample_rate_hz = 16000
{extra}
[[source]]
id = "p1"
registry = "pypi"
package = "toy-model-part1"
version = "1.0.0"
archive_sha256 = "{a1}"

[[source]]
id = "p2"
registry = "pypi"
package = "toy_model.part2"
version = "1.0.0"

[[source]]
id = "js"
registry = "npm"
package = "toy-voices"
version = "0.2.0"

[[file]]
path = "{path}"
size = {model_size if model_size is not None else len(WHOLE)}
sha256 = "{model_sha or sha(WHOLE)}"
parts = [
    {{ source = "p1", member = "toy_model_part1/data/model.bin.part1" }},
    {{ source = "p2", member = "{member2}" }},
]

[[file]]
path = "vocab.txt"
size = {len(VOCAB)}
sha256 = "{sha(VOCAB)}"
parts = [{{ source = "p1", member = "toy_model_part1/data/vocab.txt" }}]

[[file]]
path = "voices/v1.bin"
size = {len(VOICE)}
sha256 = "{sha(VOICE)}"
parts = [{{ source = "js", member = "package/voices/v1.bin" }}]

[conversion]
status = "not-needed"
"""
        (self.manifests / "toy" / "manifest.toml").write_text(text)

    def run(self, *extra: str) -> tuple[int, str]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = install.main(["--manifests", str(self.manifests), "--models-dir", str(self.models),
                                 "--offline-cache", str(self.cache), *extra])
        return code, err.getvalue()

    def leftovers(self) -> list[str]:
        """Temporary files or download dirs install.py must never leave behind."""
        if not self.models.exists():
            return []
        return [str(p) for p in self.models.rglob("*") if p.name.startswith(".")]


class InstallTests(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.fx = Fixture(Path(self._tmp.name))
        self.dest = self.fx.models / "toy"

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def test_assembles_parts_in_order_and_installs_every_file(self):
        code, err = self.fx.run()
        self.assertEqual(code, 0, err)
        self.assertEqual((self.dest / "model.bin").read_bytes(), WHOLE)
        self.assertEqual((self.dest / "vocab.txt").read_bytes(), VOCAB)
        self.assertEqual((self.dest / "voices" / "v1.bin").read_bytes(), VOICE)
        self.assertEqual((self.dest / "manifest.toml").read_bytes(),
                         (self.fx.manifests / "toy" / "manifest.toml").read_bytes())
        self.assertEqual((self.dest / "model.bin").stat().st_mode & 0o777, 0o644)
        self.assertEqual(self.fx.leftovers(), [])

    def test_second_run_needs_no_archives_and_keeps_files(self):
        self.assertEqual(self.fx.run()[0], 0)
        before = (self.dest / "model.bin").stat().st_mtime_ns
        for p in self.fx.cache.iterdir():
            p.unlink()
        code, err = self.fx.run()
        self.assertEqual(code, 0, err)
        self.assertEqual((self.dest / "model.bin").stat().st_mtime_ns, before)

    def test_corrupted_install_is_repaired(self):
        self.assertEqual(self.fx.run()[0], 0)
        data = bytearray((self.dest / "model.bin").read_bytes())
        data[100] ^= 0xFF
        (self.dest / "model.bin").write_bytes(data)
        code, err = self.fx.run()
        self.assertEqual(code, 0, err)
        self.assertEqual((self.dest / "model.bin").read_bytes(), WHOLE)

    def test_wrong_sha256_names_file_expected_actual_and_writes_nothing(self):
        wrong = "0" * 64
        self.fx.write_manifest(model_sha=wrong)
        code, err = self.fx.run()
        self.assertEqual(code, 1)
        self.assertIn("toy/model.bin", err)
        self.assertIn(f"expected {wrong}", err)
        self.assertIn(f"actual {sha(WHOLE)}", err)
        self.assertFalse((self.dest / "model.bin").exists())
        self.assertFalse((self.dest / "vocab.txt").exists(), "no file is installed when another one fails")
        self.assertEqual(self.fx.leftovers(), [])

    def test_wrong_size_names_file_expected_actual(self):
        self.fx.write_manifest(model_size=len(WHOLE) + 1)
        code, err = self.fx.run()
        self.assertEqual(code, 1)
        self.assertIn(f"toy/model.bin: size expected {len(WHOLE) + 1} bytes, actual {len(WHOLE)} bytes", err)
        self.assertFalse((self.dest / "model.bin").exists())
        self.assertEqual(self.fx.leftovers(), [])

    def test_failed_update_keeps_the_previous_good_file(self):
        self.assertEqual(self.fx.run()[0], 0)
        (self.dest / "vocab.txt").unlink()
        self.fx.write_manifest(model_sha="1" * 64)
        self.assertEqual(self.fx.run()[0], 1)
        self.assertEqual((self.dest / "model.bin").read_bytes(), WHOLE)
        self.assertEqual(self.fx.leftovers(), [])

    def test_missing_member_is_named(self):
        self.fx.write_manifest(member2="toy_model_part2/data/nope.bin")
        code, err = self.fx.run()
        self.assertEqual(code, 1)
        self.assertIn("no file member 'toy_model_part2/data/nope.bin'", err)
        self.assertEqual(self.fx.leftovers(), [])

    def test_archive_not_in_offline_cache_is_an_error_not_a_download(self):
        self.fx.tgz.unlink()
        code, err = self.fx.run()
        self.assertEqual(code, 1)
        self.assertIn("npm:toy-voices 0.2.0 not in offline cache", err)

    def test_archive_sha256_mismatch_is_an_error(self):
        self.fx.write_manifest(archive_sha1="a" * 64)
        code, err = self.fx.run()
        self.assertEqual(code, 1)
        self.assertIn(f"archive {self.fx.wheel1.name}: sha256 expected {'a' * 64}", err)

    def test_path_leaving_the_model_dir_is_rejected(self):
        self.fx.write_manifest(path="../escape.bin")
        code, err = self.fx.run()
        self.assertEqual(code, 1)
        self.assertIn("file[0]: path '../escape.bin' must be relative", err)
        self.assertFalse((self.fx.models / "escape.bin").exists())

    def test_manifest_errors_name_file_and_field(self):
        manifest = self.fx.manifests / "toy" / "manifest.toml"
        manifest.write_text(manifest.read_text().replace('\nsha256 = "', '\nsha_256 = "', 1))
        code, err = self.fx.run()
        self.assertEqual(code, 1)
        self.assertIn(str(manifest), err)
        self.assertIn("file[0]: missing field `sha256`", err)

    def test_unwritable_models_dir_is_a_clear_error(self):
        blocker = self.fx.root / "blocker"
        blocker.write_text("a file, not a directory")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = install.main(["--manifests", str(self.fx.manifests), "--models-dir", str(blocker / "models"),
                                 "--offline-cache", str(self.fx.cache)])
        self.assertEqual(code, 1)
        self.assertIn(f"install.py: error: {blocker / 'models'}", err.getvalue())

    def test_only_unknown_model_is_an_error(self):
        code, err = self.fx.run("--only", "nosuch")
        self.assertEqual(code, 1)
        self.assertIn("no manifest for nosuch", err)

    def test_command_line_exit_status(self):
        self.fx.write_manifest(model_sha="2" * 64)
        result = subprocess.run(
            [sys.executable, str(HERE / "install.py"), "--manifests", str(self.fx.manifests),
             "--models-dir", str(self.fx.models), "--offline-cache", str(self.fx.cache)],
            capture_output=True, text=True, env={**os.environ, "YINGDA_MODELS_DIR": "/nonexistent"})
        self.assertEqual(result.returncode, 1)
        self.assertIn("install.py: error: toy/model.bin: sha256 expected 2222", result.stderr)


class RepositoryManifestTests(unittest.TestCase):
    def test_every_committed_manifest_is_valid_for_the_installer(self):
        manifests = install.manifests_in(install.REPO_MODELS, None)
        self.assertGreaterEqual(len(manifests), 1)
        for m in manifests:
            self.assertTrue(m.outputs, m.name)
            for src in m.sources.values():
                self.assertIsNotNone(src.archive_sha256, f"{m.name}: {src.package} has no archive_sha256")


if __name__ == "__main__":
    unittest.main(verbosity=1)
