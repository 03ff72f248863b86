"""Read the files of a dataset from a single file, a folder, or a tar/zip archive, in memory.

Archives are never extracted to disk: members are read one by one into memory, links and directories are skipped (and
never followed), member names that could escape a folder (``..``, absolute paths, drive letters) are rejected, archives
inside the archive are not opened, and the number of members and the total uncompressed size are capped so a hostile
or broken archive cannot exhaust memory: a zip's table of contents is sized up before it is parsed, in a tar every
file's size counts (skipping one still decompresses it), and a compressed tar is checked against its checksum. Every
member carries a ``label`` (``archive.tar.gz:folder/file.xsf``) that error messages use to name exactly what was wrong.

A folder or archive is read as one format, and nothing in it is dropped silently (``read_collection``): files of
the importer's format are read; files that are clearly not data (README, LICENSE, ``__MACOSX/``, ``.DS_Store``, hidden
files, a sidecar ``energies.csv`` the format does not use), links, archives inside the archive and files of no known
format are skipped and listed in ``Skipped.summary()`` (the dataset's provenance); a file of *another* dataset format
(``.xsf`` beside ``.cif`` files, say) makes the whole read fail, naming the formats and members found.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from alcore.datasets.base import DatasetError
from alcore.datasets.text import decode_text

MAX_TOTAL_BYTES = 128 * 1024**2
"""Cap on the summed uncompressed size of the files in one archive or folder, and on one decompressed file."""

MAX_MEMBERS = 100_000
"""Cap on the number of entries (of any type) in one archive or folder."""

MAX_DIRECTORY_BYTES = 16 * 1024**2
"""Cap on a zip's table of contents: parsing it costs ~0.5 kB of memory per entry, whatever the entries hold."""

READ_CHUNK = 1 << 20

TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")
ZIP_SUFFIXES = (".zip",)
NESTED_SUFFIXES = (*TAR_SUFFIXES, *ZIP_SUFFIXES, ".gz", ".bz2", ".xz", ".7z", ".rar", ".tbz2", ".txz")


@dataclass(frozen=True)
class Member:
    """One file of a dataset: its path inside the container, a printable label, and its bytes."""

    name: str
    label: str
    data: bytes

    def text(self) -> str:
        return decode_text(self.data, self.label)

    @property
    def path(self) -> PurePosixPath:
        return PurePosixPath(self.name)


SIDECAR = "energies.csv"
"""The energies file read beside CIF/POSCAR structures (``structure_files``)."""

NOT_DATA_STEMS = ("readme", "license", "licence", "copying", "notice", "authors", "changelog", "citation")
NOT_DATA_NAMES = ("thumbs.db", "desktop.ini")
NOT_DATA_SUFFIXES = (".md", ".rst", ".txt", ".pdf", ".html")

_EXTXYZ_NAMES = tuple(f"{s}{c}" for s in (".xyz", ".extxyz") for c in ("", ".gz", ".bz2", ".xz"))


def is_poscar_name(name: str) -> bool:
    base = PurePosixPath(name).name
    return base.upper().startswith(("POSCAR", "CONTCAR")) or base.lower().endswith((".vasp", ".poscar"))


def is_not_data(name: str) -> bool:
    """README/LICENSE-like files, macOS and Windows droppings, hidden files and the ``energies.csv`` sidecar."""
    pure = PurePosixPath(name)
    base = pure.name.lower()
    if any(part.startswith(("__MACOSX", ".")) for part in pure.parts) or base in NOT_DATA_NAMES or base == SIDECAR:
        return True
    return base.split(".", 1)[0] in NOT_DATA_STEMS or base.endswith(NOT_DATA_SUFFIXES)


def file_kind(name: str) -> str | None:
    """The dataset format a member's name says it holds (``xsf``, ``cif``, ``poscar``, ``json``, ``extxyz``,
    ``csv``, ``ase-db``), or None (not a dataset format, or clearly not data)."""
    if is_not_data(name):
        return None
    base = PurePosixPath(name).name.lower()
    for kind, suffixes in (("xsf", (".xsf",)), ("cif", (".cif",)), ("json", (".json",)), ("extxyz", _EXTXYZ_NAMES),
                           ("csv", (".csv",)), ("ase-db", (".db",))):  # fmt: skip
        if base.endswith(suffixes):
            return kind
    return "poscar" if is_poscar_name(name) else None


LISTED = 20
"""How many skipped names a summary or message lists (the count is always complete)."""


@dataclass
class Skipped:
    """What a scan left out, so "nothing found" can say why (links are never followed, archives not opened), and so
    the dataset's summary lists every file that was not read; ``foreign`` files (another dataset format) refuse."""

    links: list[str] = field(default_factory=list)
    archives: list[str] = field(default_factory=list)
    not_data: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def note(self, name: str, is_link: bool, regular: bool = True) -> None:
        if is_link:
            self.links.append(name)
        elif not regular:
            self.other.append(name)
        elif file_kind(name) is not None:
            self.foreign.append(name)
        elif name.lower().endswith(NESTED_SUFFIXES):
            self.archives.append(name)
        elif is_not_data(name):
            self.not_data.append(name)
        else:
            self.other.append(name)

    def summary(self) -> dict:
        """``{"count": n, "files": ["README.md (not data)", ...]}`` (at most ``LISTED`` names), for provenance."""
        why = (("links", "link, not followed"), ("archives", "archive inside, not opened"),
               ("not_data", "not data"), ("other", "not a dataset format"))  # fmt: skip
        entries = [f"{name} ({reason})" for attr, reason in why for name in getattr(self, attr)]
        return {"count": len(entries), "files": entries[:LISTED]}

    def check_one_format(self, container: Path, members: list[str], what: str) -> None:
        """Refuse a folder or archive that also holds files of another dataset format (they would be dropped)."""
        if not self.foreign:
            return
        others = describe_kinds(self.foreign)
        if not members:
            raise DatasetError(container, f"no {what} found; it holds {others}: read it as that format")
        raise DatasetError(
            container, f"holds files of more than one dataset format: {describe_kinds(members)} and {others}; a "
            "folder or an archive is read as one format, so the other files would be left out. Put each format in its "
            "own archive, or remove the files that are not part of the dataset",
        )  # fmt: skip

    def reason(self) -> str:
        parts = []
        if self.links:
            parts.append(f"{_count(self.links, 'link')} skipped, e.g. '{self.links[0]}': links are never followed")
        if self.archives:
            parts.append(f"{_count(self.archives, 'archive')} inside it not opened, e.g. '{self.archives[0]}': "
                         "put the files themselves into one .zip or .tar.gz")  # fmt: skip
        return f" ({'; '.join(parts)})" if parts else ""


def _count(items: list[str], noun: str) -> str:
    return f"1 {noun}" if len(items) == 1 else f"{len(items)} {noun}s"


def describe_kinds(names: list[str]) -> str:
    """``30 cif files (e.g. 'a.cif'), 2 xsf files (e.g. 'b.xsf')``: the formats among ``names``, for messages."""
    from collections import Counter

    kinds = Counter(file_kind(n) or "other" for n in names)
    return ", ".join(f"{count} {kind} file{'s' if count > 1 else ''} (e.g. "
                     f"'{next(n for n in names if (file_kind(n) or 'other') == kind)}')"
                     for kind, count in kinds.most_common())  # fmt: skip


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
    return read_collection(path, accept, what)[0]


def read_collection(path: Path, accept: Callable[[str], bool], what: str) -> tuple[list[Member], Skipped]:
    """``read_members`` and what was left out; refuses members of another dataset format (see the module doc)."""
    path, wanted = Path(path), accept
    accept = lambda n: wanted(n) and (not is_not_data(n) or PurePosixPath(n).name == SIDECAR)  # noqa: E731
    if not path.exists():
        raise DatasetError(path, "no such file or folder")
    skipped = Skipped()
    if path.is_dir():
        members = list(_folder_members(path, accept, skipped))
    elif archive_kind(path) == "tar":
        members = list(_tar_members(path, accept, skipped))
    elif archive_kind(path) == "zip":
        members = list(_zip_members(path, accept, skipped))
    else:
        members = [Member(path.name, str(path), read_file(path))]
    skipped.check_one_format(path, [m.name for m in members if PurePosixPath(m.name).name != SIDECAR], what)
    if not members:
        raise DatasetError(path, f"no {what} found{skipped.reason()}")
    return sorted(members, key=lambda m: m.name), skipped


def list_names(path: Path) -> list[str]:
    """Names of the regular files in a folder or archive (for format detection), with the same safety checks."""
    return scan_names(path)[0]


def scan_names(path: Path) -> tuple[list[str], Skipped]:
    """``list_names`` and what was skipped (links, archives inside the archive)."""
    path, skipped = Path(path), Skipped()
    if path.is_dir():
        found = _folder_members(path, lambda _: True, skipped, read=False)
    elif archive_kind(path) == "tar":
        found = _tar_members(path, lambda _: True, skipped, read=False)
    elif archive_kind(path) == "zip":
        found = _zip_members(path, lambda _: True, skipped, read=False)
    else:
        found = iter([Member(path.name, str(path), b"")])
    return [m.name for m in found], skipped


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


def printable(name: str) -> str:
    """A member name as it can be shown: undecodable bytes become U+FFFD, control characters '?'."""
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else "?" for ch in name)


def _check_name(container: Path, name: str) -> None:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (len(name) > 1 and name[1] == ":"):
        raise DatasetError(container, f"refusing archive member with an unsafe name: '{printable(name)}'")


def _budget(container: Path):
    """A closure that counts members and bytes and raises once a cap is exceeded."""
    state = {"members": 0, "bytes": 0}

    def charge(n_bytes: int) -> None:
        state["members"] += 1
        state["bytes"] += max(int(n_bytes), 0)
        if state["members"] > MAX_MEMBERS:
            raise DatasetError(container, f"more than {MAX_MEMBERS} entries; refusing to read it")
        if state["bytes"] > MAX_TOTAL_BYTES:
            raise _too_big(container)

    return charge


def read_file(path: Path) -> bytes:
    """The bytes of one plain file, refusing files above the size cap."""
    size = path.stat().st_size
    if size > MAX_TOTAL_BYTES:
        raise DatasetError(path, f"the file is {_size(size)}, more than the {_size(MAX_TOTAL_BYTES)} cap")
    return path.read_bytes()


def read_decompressed(path: Path, opener: Callable) -> bytes:
    """All bytes of a compressed file (``gzip.open``, ``bz2.open``, ``lzma.open``), read in pieces so that a
    decompression bomb is refused at the cap instead of filling memory; a damaged or truncated stream is an error."""
    if path.stat().st_size == 0:
        raise DatasetError(path, "empty file")
    pieces, total = [], 0
    try:
        with opener(path, "rb") as handle:
            while piece := handle.read(READ_CHUNK):
                total += len(piece)
                if total > MAX_TOTAL_BYTES:
                    raise _too_big(path)
                pieces.append(piece)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise DatasetError(path, _stream_problem(exc)) from None
    return b"".join(pieces)


def _stream_problem(exc: BaseException) -> str:
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "end-of-stream" in text or "ended before" in text:
        return "the compressed data ends too early; is the file truncated?"
    if "crc" in text or "checksum" in text or "length" in text:
        return "the compressed data is damaged (its checksum does not match)"
    return "not readable compressed data (not gzip/bz2/xz, or damaged)"


_MAGIC_OPENERS = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))


def _opener(path: Path) -> Callable:
    """The opener of a (compressed) tar, from its first bytes. Decompressing through these file objects keeps every
    read bounded (tarfile's own decompression inflates a whole compressed block at once, gigabytes for a bzip2 bomb)
    and checks the stream's checksum at its end."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    return next((o for magic, o in _MAGIC_OPENERS if head.startswith(magic)), open)


def _drain(stream, path: Path) -> None:
    """Read a decompressed stream to its end, so that its checksum is checked: tar stops at the archive's end marker,
    and damage to the compressed data could otherwise pass unnoticed (or silently cut the member list short)."""
    total = 0
    while piece := stream.read(READ_CHUNK):
        total += len(piece)
        if total > MAX_TOTAL_BYTES:
            raise _too_big(path)


def _folder_members(root: Path, accept: Callable[[str], bool], skipped: Skipped, read: bool = True
                    ) -> Iterator[Member]:  # fmt: skip
    charge = _budget(root)
    for file in sorted(root.rglob("*")):
        name = file.relative_to(root).as_posix()
        if file.is_symlink() or not file.is_file():
            if file.is_symlink() or not file.is_dir():
                skipped.note(name, file.is_symlink(), regular=False)
            continue
        if not accept(name):
            charge(0)
            skipped.note(name, False)
            continue
        charge(file.stat().st_size)
        yield Member(name, str(file), file.read_bytes() if read else b"")


def _tar_members(path: Path, accept: Callable[[str], bool], skipped: Skipped, read: bool = True
                 ) -> Iterator[Member]:  # fmt: skip
    charge = _budget(path)
    try:
        # Stream mode: members are visited in file order and never re-seeked (cheap on .tar.gz).
        with _opener(path)(path, "rb") as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
            while (info := archive.next()) is not None:
                archive.members.clear()  # stream mode needs no index; keeping one costs ~1 kB per entry
                name = printable(info.name)
                _check_name(path, info.name)
                charge(info.size if info.isfile() else 0)  # a skipped member is decompressed all the same
                if not info.isfile() or not accept(name):
                    if not info.isdir():
                        skipped.note(name, info.issym() or info.islnk(), regular=info.isfile())
                    continue
                data = b""
                if read:
                    handle = archive.extractfile(info)
                    data = handle.read() if handle is not None else b""
                    if len(data) != info.size:
                        problem = f"truncated member ({len(data)} of {info.size} bytes)"
                        raise DatasetError(f"{path}:{name}", problem)
                yield Member(name, f"{path}:{name}", data)
            if read:
                _drain(stream, path)
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
        raise DatasetError(path, _tar_problem(exc)) from None


def _tar_problem(exc: BaseException) -> str:
    text = str(exc).lower()
    if "unexpected end" in text or "ended before" in text or "end-of-stream" in text or isinstance(exc, EOFError):
        return "not a readable tar archive (it ends too early; is the file truncated?)"
    if "empty file" in text:
        return "empty file"
    if "crc" in text or "checksum" in text:
        return "not a readable tar archive (damaged: a checksum does not match)"
    return "not a readable tar archive (not a tar file, or a damaged one)"


def _check_zip_directory(path: Path) -> None:
    """Refuse a zip whose table of contents is too big to parse, before ``zipfile`` builds an entry for each line
    of it (a 50 MB table of one-letter names is a million entries and ~0.5 GB of memory)."""
    end_record = getattr(zipfile, "_EndRecData", None)  # the reader zipfile itself uses first (zip64 aware)
    if end_record is None:
        return
    try:
        with open(path, "rb") as handle:
            end = end_record(handle)
    except OSError:
        return
    if not end:
        return  # not a zip: ZipFile says so below
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > MAX_MEMBERS:
        raise DatasetError(path, f"more than {MAX_MEMBERS} entries; refusing to read it")
    if size > MAX_DIRECTORY_BYTES:
        raise DatasetError(
            path, f"its table of contents is {size / 1024**2:.0f} MB (more than {MAX_DIRECTORY_BYTES // 1024**2} MB "
            f"allowed); refusing to read it",
        )  # fmt: skip


def _zip_members(path: Path, accept: Callable[[str], bool], skipped: Skipped, read: bool = True
                 ) -> Iterator[Member]:  # fmt: skip
    if path.stat().st_size == 0:
        raise DatasetError(path, "empty file")
    _check_zip_directory(path)
    charge = _budget(path)
    try:
        archive = zipfile.ZipFile(path)
    except UnicodeDecodeError:
        problem = "a member name is not valid UTF-8 although the zip says it is; damaged archive?"
        raise DatasetError(path, problem) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise DatasetError(path, _zip_problem(exc)) from None
    with archive:
        for info in archive.infolist():
            name = printable(info.filename)
            _check_name(path, info.filename)
            is_link = _zip_is_symlink(info)
            if info.is_dir() or is_link or not accept(name):
                charge(0)  # never decompressed, so only counted
                if not info.is_dir():
                    skipped.note(name, is_link)
                continue
            charge(info.file_size)
            yield Member(name, f"{path}:{name}", _read_zip_member(archive, info, path, name) if read else b"")


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, name: str) -> bytes:
    """The member's bytes, read in pieces: ``ZipFile.read`` inflates the whole member in one call whatever size the
    header declares (a 50 MB upload can hold a member that inflates to 50 GB). Only stored and deflated members are
    read: zipfile's bzip2 and lzma readers inflate each piece without bound."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise DatasetError(f"{path}:{name}", "the member uses a compression method that cannot be read safely; use a "
                                             "standard zip (deflate)")  # fmt: skip
    pieces = []
    try:
        with archive.open(info) as handle:
            while piece := handle.read(READ_CHUNK):
                pieces.append(piece)
        return b"".join(pieces)
    except NotImplementedError:  # (a RuntimeError: caught first)
        raise DatasetError(
            f"{path}:{name}", "the member uses a compression method that cannot be read; use a standard zip (deflate)"
        ) from None
    except RuntimeError:  # zipfile's signal for a password-protected member
        problem = "the member is encrypted (password-protected); zip it without a password"
        raise DatasetError(f"{path}:{name}", problem) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, lzma.LZMAError, ValueError) as exc:
        raise DatasetError(f"{path}:{name}", f"the member is damaged ({_zip_detail(exc)})") from None


def _zip_problem(exc: BaseException) -> str:
    return f"not a readable zip archive ({_zip_detail(exc)})"


def _zip_detail(exc: BaseException) -> str:
    text = str(exc).lower()
    if "crc" in text:
        return "a checksum does not match"
    if "truncated" in text or isinstance(exc, EOFError):
        return "it ends too early; is the file truncated?"
    if "not a zip file" in text:
        return "not a zip file, or a damaged or truncated one"
    return "damaged, or a kind of zip that cannot be read"


def _too_big(path: Path) -> DatasetError:
    return DatasetError(path, f"uncompressed content exceeds {_size(MAX_TOTAL_BYTES)}; refusing to read it")


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1024**2:.0f} MB" if n_bytes >= 1024**2 else f"{n_bytes} bytes"


def _zip_is_symlink(info: zipfile.ZipInfo) -> bool:
    return (info.external_attr >> 16) & 0o170000 == 0o120000
