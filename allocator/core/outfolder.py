"""Where allocator writes: an output folder or file is the user's unless allocator wrote it.

Every command that writes (``solve``, ``evaluate``, ``generate``, ``convert``, ``report``,
``import``, ``stochastic-value``) goes through this module, with one rule:

* **Recognisable.** Every folder allocator writes holds :data:`MANIFEST`
  (``.allocator.json``): the path and SHA-256 of every file allocator wrote into it. A single
  file (``report -o page.html``, ``convert --to xlsx``, ``stochastic-value -o value.json``,
  ``solve --log``) is recorded the same way in the manifest of the folder it is in. A file is
  allocator's while its bytes still have the recorded SHA-256: a file the user edited is the
  user's.
* **Replaced atomically.** A folder whose every file is allocator's (or an empty folder) is
  written in full to a temporary folder beside it, then swapped in: the old folder is renamed
  away, the new one renamed into place, and the old one's recorded files removed. A failure
  before the swap leaves the old folder as it was; no run leaves a half-written folder.
* **Anything else is refused** (:class:`OutputRefusedError`, exit 2, naming the folder or file and
  what in it is not allocator's), unless ``force``: then allocator writes its own files into
  the folder one by one (each atomically) and removes only its own files of an earlier run
  that this run does not write (still unchanged); every other file stays, byte for byte.
* **Never, even with force:** the root folder, the user's home folder, the folder the command
  runs in (or one holding any of these), a folder holding the instance being read, and a
  file inside the instance being read.

The module imports only :mod:`allocator.core.errors`, so that every layer can use it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from allocator.core.errors import InputError, Problem

try:
    import pwd  # the account database (POSIX)
except ImportError:  # Windows
    pwd = None  # type: ignore[assignment]

#: the file in a folder that names the files allocator wrote there, with their SHA-256
MANIFEST = ".allocator.json"
#: how many of the files that are not allocator's a refusal names
_SHOWN = 5

#: writes a folder's contents into the (empty, temporary) folder it is given
FolderWriter = Callable[[Path], None]
#: the bytes of a single file, or a function that writes the file at the path it is given
FileContent = bytes | Callable[[Path], None]


class OutputRefusedError(InputError):
    """allocator will not write there (exit 2); nothing was written."""

    def __str__(self) -> str:
        return "\n".join(f"Not written: {p.file}: {p.message}" for p in self.problems)


def _refuse(path: Path, message: str) -> OutputRefusedError:
    """The refusal, naming the path as given and, when that differs, where it leads."""
    shown = str(path)
    real = _resolved(path)
    if str(real) != shown:
        shown += f" ({real})"
    return OutputRefusedError([Problem(shown, message)])


# ---------------------------------------------------------------------- the manifest
def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(folder: Path) -> dict[str, str] | None:
    """``{relative path: sha256}`` of the files allocator wrote in ``folder``; ``None`` when
    the folder has no readable manifest."""
    path = folder / MANIFEST
    if not path.is_file() or path.is_symlink():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if data.get("written_by") != "allocator" or not isinstance(files, dict):
        return None
    return {str(k): str(v) for k, v in files.items()}


def _write_manifest(folder: Path, files: Mapping[str, str]) -> None:
    """Write the manifest of ``folder`` atomically (temporary file, then rename)."""
    text = json.dumps({"written_by": "allocator", "format": 1,
                       "files": dict(sorted(files.items()))}, indent=1) + "\n"
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def _hash_tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (but its manifest): relative path -> SHA-256."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and not path.is_symlink() and rel != MANIFEST:
            out[rel] = sha256_of(path)
    return out


@dataclass
class Survey:
    """What is in an existing folder: allocator's own files (unchanged since written), the
    files allocator wrote that were changed since, and everything else (the user's)."""

    manifest: dict[str, str] | None
    own: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    @property
    def allocators(self) -> bool:
        """True when every entry is allocator's own file (or the folder is empty)."""
        return not self.changed and not self.foreign


def survey(folder: Path) -> Survey:
    """Sort everything under ``folder`` into own, changed and foreign (see :class:`Survey`).
    Symbolic links and folders that hold no recorded file count as foreign."""
    manifest = read_manifest(folder)
    recorded = manifest or {}
    parents = {p for rel in recorded for p in Path(rel).parents}
    out = Survey(manifest)
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        for name in sorted(dirs):
            path = base / name
            rel = path.relative_to(folder)
            if path.is_symlink():
                out.foreign.append(rel.as_posix())
            elif not any(path.iterdir()) and rel not in parents:
                out.foreign.append(rel.as_posix() + "/")
        for name in sorted(files):
            path = base / name
            rel = path.relative_to(folder).as_posix()
            if rel == MANIFEST and manifest is not None:
                continue
            if path.is_symlink() or rel not in recorded:
                out.foreign.append(rel)
            elif sha256_of(path) == recorded[rel]:
                out.own.append(rel)
            else:
                out.changed.append(rel)
    return out


# ---------------------------------------------------------------------- where never
def _resolved(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


def _holds(folder: Path, path: Path) -> bool:
    return folder == path or folder in path.parents


def _homes() -> list[Path]:
    """The user's home folder, as $HOME says and as the account database says (a changed
    $HOME must not make the real home writable)."""
    homes = [_resolved(Path.home())]
    if pwd is not None:
        with contextlib.suppress(KeyError, OSError):
            homes.append(_resolved(pwd.getpwuid(os.getuid()).pw_dir))
    return homes


def _never(target: Path, reading: Iterable[str | Path]) -> str | None:
    """Why ``target`` is refused even with --force, or None."""
    if target.parent == target:
        return "it is the root folder: name a folder of its own for the output"
    if any(_holds(target, home) for home in _homes()):
        return ("it is your home folder (or holds it): name a folder of its own for the "
                "output, e.g. ~/allocator-out")
    if _holds(target, _resolved(Path.cwd())):
        return ("it is the folder you are in (or holds it): name a folder of its own for the "
                "output, e.g. out/")
    for source in reading:
        src = _resolved(source)
        if _holds(target, src):
            return (f"it holds the instance being read ({src}): allocator's files there would "
                    "mix with the instance's own (results.csv names such as regions.csv are "
                    "instance files too); name another folder")
    return None


def _never_file(target: Path, reading: Iterable[str | Path]) -> str | None:
    """Why the single file ``target`` is refused even with --force, or None."""
    for source in reading:
        src = _resolved(source)
        if _holds(src, target):
            return (f"it is inside the instance being read ({src}) or is the instance "
                    "itself; name a file elsewhere")
    return None


# ---------------------------------------------------------------------- folders
def check_folder(folder: str | Path, *, force: bool = False,
                 reading: Iterable[str | Path] = ()) -> Path:
    """Refuse (:class:`OutputRefusedError`) when ``folder`` may not be written under the rule of the
    module docstring; returns the folder's resolved path. Call it before long work, so that a
    solve is not spent on a folder that will be refused."""
    target = _resolved(folder)
    why = _never(target, list(reading))
    if why:
        raise _refuse(Path(folder), why)
    if not target.exists() and not target.is_symlink():
        return target
    if not target.is_dir():
        raise _refuse(Path(folder), "is a file, not a folder: name a folder for the output")
    found = survey(target)
    if found.allocators or force:
        return target
    raise _refuse(target, _not_allocators(found))


def _not_allocators(found: Survey) -> str:
    parts = []
    if found.foreign:
        shown = ", ".join(found.foreign[:_SHOWN])
        more = f" and {len(found.foreign) - _SHOWN} more" if len(found.foreign) > _SHOWN else ""
        parts.append(f"holds files allocator did not write ({shown}{more})")
    if found.changed:
        shown = ", ".join(found.changed[:_SHOWN])
        more = f" and {len(found.changed) - _SHOWN} more" if len(found.changed) > _SHOWN else ""
        parts.append(f"holds files allocator wrote that were changed since ({shown}{more})")
    return ("; ".join(parts) + ". allocator replaces only a folder it wrote itself. Name "
            "another folder, or add --force to write allocator's files into this one: every "
            "other file stays as it is.")


def write_folder(folder: str | Path, write: FolderWriter, *, force: bool = False,
                 reading: Iterable[str | Path] = ()) -> Path:
    """Write a folder with ``write(tmp)`` under the rule of the module docstring; returns the
    folder's resolved path. ``reading``: the instance (folder or workbook) the command reads."""
    target = check_folder(folder, force=force, reading=reading)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".new", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # as a plain mkdir would (mkdtemp makes it private)
    try:
        write(tmp)
        files = _hash_tree(tmp)
        if target.is_dir() and not survey(target).allocators:
            if not force:  # a foreign file appeared while writing
                raise _refuse(target, _not_allocators(survey(target)))
            _merge(tmp, target, files)
        else:
            _write_manifest(tmp, files)
            _swap(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)  # our own temporary folder
    return target


def _swap(tmp: Path, target: Path) -> None:
    """Put the complete folder ``tmp`` in place of ``target`` (absent, empty or allocator's)."""
    if not target.exists():
        tmp.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        tmp.rename(target)
    except BaseException:
        old.rename(target)
        raise
    _remove_own(old)


def _remove_own(folder: Path) -> None:
    """Remove what allocator wrote in ``folder`` (recorded, unchanged), its manifest, and the
    folders left empty; anything else stays (the folder is then kept, and named)."""
    recorded = read_manifest(folder) or {}
    for rel, digest in recorded.items():
        path = folder / rel
        if path.is_file() and not path.is_symlink() and sha256_of(path) == digest:
            path.unlink()
    if (folder / MANIFEST).is_file():
        (folder / MANIFEST).unlink()
    for root, _, _ in os.walk(folder, topdown=False):
        with contextlib.suppress(OSError):  # not empty: something that is not allocator's
            Path(root).rmdir()
    if folder.exists():
        warnings.warn(f"files appeared in the folder while allocator replaced it; they were "
                      f"kept in {folder}", stacklevel=3)


def _merge(tmp: Path, target: Path, files: Mapping[str, str]) -> None:
    """``--force`` into a folder that is not allocator's alone: write allocator's files one by
    one; remove only allocator's own files of an earlier run that this run does not write."""
    for rel in files:
        dst = target / rel
        in_way = [dst] if dst.is_dir() and not dst.is_symlink() else []
        in_way += [p for p in dst.parents if target in p.parents and p.exists()
                   and (p.is_symlink() or not p.is_dir())]
        if in_way:
            raise _refuse(in_way[0], "is in the way of a file allocator writes (a folder "
                          "where a file goes, or a file where a folder goes); it was kept and "
                          "nothing was written")
    before = read_manifest(target) or {}
    for rel in files:
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, dst)
    for rel, digest in before.items():
        path = target / rel
        if rel not in files and path.is_file() and not path.is_symlink() \
                and sha256_of(path) == digest:
            path.unlink()
    _write_manifest(target, files)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------------- single files
def check_files(paths: Iterable[str | Path], *, force: bool = False,
                reading: Iterable[str | Path] = ()) -> list[Path]:
    """Refuse (:class:`OutputRefusedError`) when one of ``paths`` may not be written: it is a
    folder, inside the instance being read, or an existing file allocator did not write (or
    that was changed since) and ``force`` is off. Returns the resolved paths."""
    reading = list(reading)
    out, problems = [], []
    for given in paths:
        path = _resolved(given)
        why = _never_file(path, reading)
        if why:
            problems.append(Problem(str(given), why))
        elif path.is_dir():
            problems.append(Problem(str(given), "is a folder, not a file"))
        elif (path.exists() or path.is_symlink()) and not force and not _is_own(path):
            problems.append(Problem(str(path), "exists and allocator did not write it (or it "
                                    "was changed since): name another file, or add --force "
                                    "to replace it"))
        out.append(path)
    if problems:
        raise OutputRefusedError(problems)
    return out


def _is_own(path: Path) -> bool:
    recorded = read_manifest(path.parent) or {}
    return (path.is_file() and not path.is_symlink() and path.name in recorded
            and sha256_of(path) == recorded[path.name])


def write_files(files: Mapping[str | Path, FileContent], *, force: bool = False,
                reading: Iterable[str | Path] = ()) -> list[Path]:
    """Write single files, each atomically (temporary file beside it, then rename), after
    checking all of them (:func:`check_files`); each is recorded in the manifest of its
    folder. Returns the resolved paths."""
    paths = check_files(files, force=force, reading=reading)
    for path, content in zip(paths, files.values(), strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            if isinstance(content, bytes):
                tmp.write_bytes(content)
            else:
                content(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    record_files(paths)
    return paths


def record_files(paths: Iterable[str | Path]) -> None:
    """Record files allocator wrote (e.g. the HiGHS log) in the manifest of their folder."""
    by_folder: dict[Path, list[Path]] = {}
    for given in paths:
        path = _resolved(given)
        if path.is_file():
            by_folder.setdefault(path.parent, []).append(path)
    for folder, members in by_folder.items():
        recorded = read_manifest(folder) or {}
        recorded.update({p.name: sha256_of(p) for p in members})
        _write_manifest(folder, recorded)

