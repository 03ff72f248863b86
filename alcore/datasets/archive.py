"""Read the files of a dataset from a single file, a folder, or a tar/zip archive, in memory.

Archives are never extracted to disk: members are read one by one into memory, links and directories are skipped,
member names that could escape a folder (``..``, absolute paths) are rejected, and the number of members and the total
uncompressed size are capped so a hostile or broken archive cannot exhaust memory. Every member carries a ``label``
(``archive.tar.gz:folder/file.xsf``) that error messages use to name exactly what was wrong.
"""

from __future__ import annotations

import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from alcore.datasets.base import DatasetError

MAX_TOTAL_BYTES = 512 * 1024**2
"""Cap on the summed uncompressed size of the members read from one archive or folder."""

MAX_MEMBERS = 200_000
"""Cap on the number of entries (of any type) in one archive or folder."""

TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")
ZIP_SUFFIXES = (".zip",)


@dataclass(frozen=True)
class Member:
    """One file of a dataset: its path inside the container, a printable label, and its bytes."""

    name: str
    label: str
    data: bytes

    def text(self) -> str:
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = self.data[exc.start]
            raise DatasetError(self.label, f"not UTF-8 text (byte {exc.start} is {bad:#04x})") from None

    @property
    def path(self) -> PurePosixPath:
        return PurePosixPath(self.name)


def archive_kind(path: Path) -> str | None:
    """``"tar"``, ``"zip"`` or ``None`` from the file name."""
    name = path.name.lower()
    if name.endswith(TAR_SUFFIXES):
        return "tar"
    if name.endswith(ZIP_SUFFIXES):
        return "zip"
    return None


def read_members(path: Path, accept: Callable[[str], bool], what: str) -> list[Member]:
    """All files under ``path`` (a file, folder or archive) whose name passes ``accept``, sorted by name.

    ``what`` describes the wanted files for the "nothing found" error (e.g. ``"*.xsf files"``).
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(path, "no such file or folder")
    if path.is_dir():
        members = list(_folder_members(path, accept))
    elif archive_kind(path) == "tar":
        members = list(_tar_members(path, accept))
    elif archive_kind(path) == "zip":
        members = list(_zip_members(path, accept))
    else:
        members = [Member(path.name, str(path), read_file(path))]
    if not members:
        raise DatasetError(path, f"no {what} found")
    return sorted(members, key=lambda m: m.name)


def list_names(path: Path) -> list[str]:
    """Names of the regular files in a folder or archive (for format detection), with the same safety checks."""
    return [m.name for m in _iter_names(Path(path))]


def _iter_names(path: Path) -> Iterator[Member]:
    if path.is_dir():
        return _folder_members(path, lambda _: True, read=False)
    if archive_kind(path) == "tar":
        return _tar_members(path, lambda _: True, read=False)
    if archive_kind(path) == "zip":
        return _zip_members(path, lambda _: True, read=False)
    return iter([Member(path.name, str(path), b"")])


def relative_ids(names: list[str]) -> list[str]:
    """Structure ids from member names: the common leading folders and the file suffix are dropped.

    ``["dir_xsf/s1.xsf", "dir_xsf/s2.xsf"]`` -> ``["s1", "s2"]``; ``["Fe/EOS/c1.json", "Fe/bcc/c1.json"]`` ->
    ``["EOS/c1", "bcc/c1"]``.
    """
    parts = [PurePosixPath(n).parts for n in names]
    common = 0
    if parts:
        shortest = min(len(p) for p in parts)
        while common < shortest - 1 and len({p[common] for p in parts}) == 1:
            common += 1
    ids = []
    for p in parts:
        rel = PurePosixPath(*p[common:])
        ids.append(str(rel.with_suffix("")) if rel.suffix else str(rel))
    return ids


def _check_name(container: Path, name: str) -> None:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (len(name) > 1 and name[1] == ":"):
        raise DatasetError(container, f"refusing archive member with an unsafe name: {name!r}")


def _budget(container: Path):
    """A closure that counts members and bytes and raises once a cap is exceeded."""
    state = {"members": 0, "bytes": 0}

    def charge(n_bytes: int) -> None:
        state["members"] += 1
        state["bytes"] += max(int(n_bytes), 0)
        if state["members"] > MAX_MEMBERS:
            raise DatasetError(container, f"more than {MAX_MEMBERS} entries; refusing to read it")
        if state["bytes"] > MAX_TOTAL_BYTES:
            raise DatasetError(
                container, f"uncompressed content exceeds {MAX_TOTAL_BYTES} bytes; refusing to read it"
            )

    return charge


def read_file(path: Path) -> bytes:
    """The bytes of one plain file, refusing files above the size cap."""
    size = path.stat().st_size
    if size > MAX_TOTAL_BYTES:
        raise DatasetError(path, f"file is {size} bytes, more than the {MAX_TOTAL_BYTES}-byte cap")
    return path.read_bytes()


def _folder_members(root: Path, accept: Callable[[str], bool], read: bool = True) -> Iterator[Member]:
    charge = _budget(root)
    for file in sorted(root.rglob("*")):
        if file.is_symlink() or not file.is_file():
            continue
        name = file.relative_to(root).as_posix()
        if not accept(name):
            continue
        size = file.stat().st_size
        charge(size)
        yield Member(name, str(file), file.read_bytes() if read else b"")


def _tar_members(path: Path, accept: Callable[[str], bool], read: bool = True) -> Iterator[Member]:
    charge = _budget(path)
    try:
        # Stream mode: members are visited in file order and never re-seeked (cheap on .tar.gz).
        with tarfile.open(path, mode="r|*") as archive:
            for info in archive:
                _check_name(path, info.name)
                if not info.isfile() or not accept(info.name):
                    charge(0)
                    continue
                charge(info.size)
                data = b""
                if read:
                    handle = archive.extractfile(info)
                    data = handle.read() if handle is not None else b""
                    if len(data) != info.size:
                        problem = f"truncated member ({len(data)} of {info.size} bytes)"
                        raise DatasetError(f"{path}:{info.name}", problem)
                yield Member(info.name, f"{path}:{info.name}", data)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise DatasetError(path, f"not a readable tar archive ({type(exc).__name__}: {exc})") from None


def _zip_members(path: Path, accept: Callable[[str], bool], read: bool = True) -> Iterator[Member]:
    charge = _budget(path)
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                _check_name(path, info.filename)
                if info.is_dir() or _zip_is_symlink(info) or not accept(info.filename):
                    charge(0)
                    continue
                charge(info.file_size)
                data = archive.read(info) if read else b""
                yield Member(info.filename, f"{path}:{info.filename}", data)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise DatasetError(path, f"not a readable zip archive ({type(exc).__name__}: {exc})") from None


def _zip_is_symlink(info: zipfile.ZipInfo) -> bool:
    return (info.external_attr >> 16) & 0o170000 == 0o120000
