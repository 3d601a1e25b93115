"""Finding the numbered scripts, choosing dialect variants, and checksumming them."""

from __future__ import annotations

import codecs
import os

from .errors import ConfigError, ScriptError
from .kinds import DIALECTS
from .values import value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, BinaryIO, Iterator

# Script names are read with str methods, not regexes: a start that only lists applied scripts then never
# imports re (with enum, ~5 ms); tests/test_script_names.py holds them to the regexes they replace.

# Versions live in a BIGINT column; 20251214144332 (a timestamp) is the widest style in use.
MAX_VERSION = 2**63 - 1
CHUNK = 1 << 20
# What `new` writes under a script's title line; a script that still starts with it and has no statement was
# never written (is_template), whereas other comment-only scripts are real, empty steps of an update series.
TEMPLATE_NOTE = (
    "-- Applied once by sqlrun, in version order. Errors meaning 'already in place' are tolerated.\n"
    "-- Put '-- sqlrun: no-transaction' as the very first line to run outside a transaction.\n"
)


@value
class Script:
    """One script chosen for this database: its version, name and file."""

    version: int
    name: str
    path: str | os.PathLike[str]  # as str(Path(...)) would show it: discovery does without pathlib (a start's cost)
    file: str  # the file name as shown to users and stored in the history

    def open(self):  # noqa: ANN201 - a text file object
        """Open the script as text (UTF-8, BOM skipped by the splitter, universal newlines kept off)."""
        return open(self.path, encoding="utf-8", newline="")

    def fingerprint(self) -> Fingerprint:
        """Checksum and facts found in one streaming pass; raises ScriptError on bad UTF-8 or an empty file."""
        return fingerprint(self.path, self.file)

    @property
    def repeatable(self) -> bool:
        """An R__name.sql script (a numbered one starts with its digits)."""
        return self.file.startswith("R__")


@value
class Fingerprint:
    """What one pass over a script's bytes learns: checksum, size, and the no-transaction marker."""

    checksum: str
    size: int
    no_transaction: bool


@value
class Discovery:
    """The scripts for one database, in version order, the repeatable ones in name order, and the warnings."""

    scripts: tuple[Script, ...]
    warnings: tuple[str, ...]
    repeatable: tuple[Script, ...] = ()


def repeatable_key(name: str) -> int:
    """The number a repeatable script's history row is keyed by: stable, derived from its name, 56 bits."""
    digest = sha256(0)
    digest.update(name.encode())
    return int.from_bytes(digest.digest()[:7], "big")


# Below this many bytes a checksum uses the interpreter's own sha256: loading OpenSSL's (hashlib) is ~4 ms of
# a start that checksums a few small scripts. Above it OpenSSL's is several times faster per byte.
SMALL_HASH = 1 << 20


def sha256(size: int | None) -> Any:
    """A new sha256 for about ``size`` bytes (None: unknown); every implementation gives the same digest."""
    if size is not None and size < SMALL_HASH:
        try:
            from _sha256 import sha256 as small  # CPython 3.11
        except ImportError:
            try:
                from _sha2 import sha256 as small  # type: ignore[no-redef]  # CPython 3.12+
            except ImportError:
                from hashlib import sha256 as small  # type: ignore[no-redef, assignment]
        return small()
    import hashlib

    return hashlib.sha256()


def script_name(file: str) -> tuple[str, str, str | None] | None:
    """NNN_name.sql or NNN_name.<dialect>.sql (any case): (the digits, the name, the dialect lowercased or None).

    The number has any width and orders numerically; the name has no '.'.
    """
    if file[-4:].lower() != ".sql":
        return None
    parts = file[:-4].split(".")
    dialect = parts[1].casefold() if len(parts) == 2 else None
    if len(parts) > 2 or (dialect is not None and dialect not in DIALECTS):
        return None
    digits, underscore, name = parts[0].partition("_")
    if not (digits.isdecimal() and underscore and name):
        return None
    return digits, name, dialect


def repeatable_name(file: str) -> tuple[str, str | None] | None:
    """R__name.sql or R__name.<dialect>.sql (exactly this case): (the name, the dialect or None).

    A repeatable script is applied whenever its checksum changes.
    """
    if not (file.startswith("R__") and file.endswith(".sql")):
        return None
    parts = file[3:-4].split(".")
    dialect = parts[1] if len(parts) == 2 else None
    if len(parts) > 2 or not parts[0] or (dialect is not None and dialect not in DIALECTS):
        return None
    return parts[0], dialect


def looks_numbered(file: str) -> bool:
    """A number, an underscore, anything, .sql (any case): a name never skipped without a word."""
    digits, underscore, _ = file.partition("_")
    return digits.isdecimal() and bool(underscore) and file[-4:].lower() == ".sql" and "\n" not in file[:-1]


def no_transaction(first_line: str) -> bool:
    """The first line is ``-- sqlrun: no-transaction`` (any case, any blanks around the words, a BOM, a CR)."""
    text = first_line.removeprefix("\ufeff").lstrip(" \t")
    if not text.startswith("--"):
        return False
    text = text[2:].lstrip(" \t")
    if text[:7].casefold() != "sqlrun:":
        return False
    text = text[7:].lstrip(" \t")
    if text[:14].casefold() != "no-transaction":
        return False
    return not text[14:].removesuffix("\r").strip(" \t")


def discover(directory: str | os.PathLike[str], kind: str, *, strict: bool = False) -> Discovery:
    """List the scripts in ``directory`` for database ``kind`` ("mysql", "postgresql" or "sqlite").

    A numbered ``.sql`` name that is not a readable file (a dangling symlink, a directory) is a ScriptError;
    a numbered name that does not match the pattern (``010_v1.2_fix.sql``) is a warning, or with ``strict``
    a ScriptError.
    """
    root = path_text(os.fspath(directory))
    if not os.path.isdir(root):
        what = "is not a directory" if os.path.exists(root) else "does not exist"
        raise ConfigError(f"migrations directory {root} {what}: create it or pass --dir")
    generic: dict[int, tuple[str, str]] = {}
    variant: dict[int, tuple[str, str]] = {}
    names: dict[int, dict[str, str]] = {}
    warnings: list[str] = []
    repeatable: dict[str, tuple[bool, str]] = {}
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if not entry.name.lower().endswith(".sql"):
            continue
        numbered = looks_numbered(entry.name)
        path = _child(root, entry.name)
        if not entry.is_file():
            if numbered:
                raise ScriptError(_not_a_file(path))
            continue
        r = repeatable_name(entry.name)
        if r is not None:
            _put_repeatable(repeatable, r[0], r[1], kind, path)
            continue
        m = script_name(entry.name)
        if m is None:
            text = f"{path}: ignored, a script name must look like 001_name.sql (no '.' in the name)"
            if strict and numbered:
                raise ScriptError(f"{text}; rename it, or run without --strict")
            warnings.append(text)
            continue
        digits, name, dialect = m
        version = int(digits)
        if version > MAX_VERSION:
            raise ScriptError(f"{path}: version {digits} is too large (at most {MAX_VERSION})")
        names.setdefault(version, {}).setdefault(name, path)
        if dialect is None:
            _put(generic, version, name, path)
        elif DIALECTS[dialect] == kind:  # script_name gives it lowercased
            _put(variant, version, name, path)
    for version, by_name in names.items():
        if len(by_name) > 1:
            files = " and ".join(str(p) for p in sorted(by_name.values()))
            raise ScriptError(f"version {version} has two different names: {files}; rename one of them")
    chosen = {**generic, **variant}
    scripts = tuple(Script(v, n, p, os.path.basename(p)) for v, (n, p) in sorted(chosen.items()))
    repeatables = tuple(Script(repeatable_key(n), n, p, os.path.basename(p)) for n, (_, p) in sorted(repeatable.items()))
    return Discovery(scripts, tuple(warnings), repeatables)


def path_text(path: str) -> str:
    """``str(pathlib.PurePosixPath(path))`` without importing pathlib: no '.' parts, no repeated or trailing '/'."""
    parts = [p for p in path.split("/") if p and p != "."]
    lead = "/" if path.startswith("/") else ""
    return lead + "/".join(parts) or "."


def _child(root: str, name: str) -> str:
    """``str(Path(root) / name)`` for a cleaned ``root``."""
    if root == ".":
        return name
    return root + name if root.endswith("/") else f"{root}/{name}"


def _put_repeatable(found: dict[str, tuple[bool, str]], name: str, dialect: str | None, kind: str, path: str) -> None:
    """Keep R__name.sql, unless this database's variant R__name.<dialect>.sql replaces it."""
    if dialect is not None and DIALECTS[dialect] != kind:  # repeatable_name takes only the lowercase names
        return
    is_variant = dialect is not None
    if name not in found or (is_variant and not found[name][0]):
        found[name] = (is_variant, path)


def _not_a_file(text: str) -> str:
    """Why ``text``, a path named like a script, cannot be read as one."""
    from pathlib import Path

    path = Path(text)
    if path.is_symlink() and not path.exists():
        return f"{path}: a symlink to {os.readlink(path)}, which does not exist; fix or remove the link"
    if path.is_dir():
        return f"{path}: a directory named like a script; rename or remove it"
    return f"{path}: not a regular file; a script must be a file"


def _put(table: dict[int, tuple[str, str]], version: int, name: str, path: str) -> None:
    if version in table:
        raise ScriptError(f"version {version} is used twice: {table[version][1]} and {path}; renumber one of them")
    table[version] = (name, path)


class Checksum:
    """A script's checksum fed block by block: sha256 of its bytes with a leading BOM removed and CRLF turned into LF."""

    def __init__(self, size: int | None = None) -> None:
        self.digest = sha256(size)  # size: the file's, when known
        self.size = 0
        self.head = b""  # the first 4 KiB after the BOM
        self._cr = False  # the last block ended with a CR, which may pair with an LF at the next one's start

    def update(self, block: bytes) -> None:
        """Feed the next block of the file's bytes."""
        if self.size == 0 and block.startswith(codecs.BOM_UTF8):
            block = block[3:]
            self.size += 3
        self.size += len(block)
        if len(self.head) < 4096:
            self.head += block[: 4096 - len(self.head)]
        block = (b"\r" + block) if self._cr else block
        self._cr = block.endswith(b"\r")
        self.digest.update(block[:-1].replace(b"\r\n", b"\n") if self._cr else block.replace(b"\r\n", b"\n"))

    def hexdigest(self) -> str:
        """The checksum of everything fed (call once, at the end)."""
        if self._cr:
            self.digest.update(b"\r")
            self._cr = False
        return self.digest.hexdigest()


def fingerprint(path: str | os.PathLike[str], shown: str | None = None) -> Fingerprint:
    """Checksum a script: sha256 of its text with a BOM removed and CRLF turned into LF."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines = 0
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ScriptError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    with fh:
        digest = Checksum(os.fstat(fh.fileno()).st_size)
        for block in iter(lambda: fh.read(CHUNK), b""):
            _check_utf8(decoder, block, digest.size, lines, path, shown)
            lines += block.count(b"\n")
            digest.update(block)
        _check_utf8(decoder, b"", digest.size, lines, path, shown, final=True)
    if not digest.head.strip():
        raise ScriptError(f"{shown or path}:1: the script is empty; write at least one statement or delete the file")
    first_line = digest.head.split(b"\n", 1)[0].decode("utf-8", "ignore")
    return Fingerprint(digest.hexdigest(), digest.size, no_transaction(first_line))


def _check_utf8(
    decoder: codecs.IncrementalDecoder, block: bytes, offset: int, lines: int, path: str | os.PathLike[str], shown: str | None, final: bool = False
) -> None:
    carried = decoder.getstate()[0]  # bytes of an unfinished character from the previous block
    try:
        decoder.decode(block, final)
    except UnicodeDecodeError as exc:
        data = carried + block
        pos = offset - len(carried) + exc.start
        line = lines + data[: exc.start].count(b"\n") + 1
        raise ScriptError(
            f"{shown or path}:{line}: not valid UTF-8 at byte offset {pos} ({exc.reason}); save the file as UTF-8"
        ) from None


def read_statements_text(script: Script) -> Iterator[str]:
    """Yield the script's text in chunks, for the streaming splitter."""
    with script.open() as fh:
        yield from iter(lambda: fh.read(CHUNK), "")


def read_checked(script: Script, checksum: str, source: BinaryIO | None = None) -> Iterator[str]:
    """The script's text in chunks from one read of its bytes (or of ``source``, a spool of them); at the end,
    ScriptError unless those bytes have ``checksum``, so that a consumer can refuse to finish with what it read."""
    digest = Checksum()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with _reopen(source) if source is not None else open(script.path, "rb") as fh:
        try:
            for block in iter(lambda: fh.read(CHUNK), b""):
                digest.update(block)
                text = decoder.decode(block)
                if text:
                    yield text
            tail = decoder.decode(b"", True)
        except UnicodeDecodeError:  # it was valid UTF-8 when checksummed
            raise changed_while_read(script) from None
    if tail:
        yield tail
    if digest.hexdigest() != checksum:
        raise changed_while_read(script)


def spool(script: Script, checksum: str) -> BinaryIO:
    """A private copy of the script's bytes, checked against ``checksum``: what runs cannot change under sqlrun.

    An anonymous temporary file: the system removes it when it is closed or the process dies.
    """
    import tempfile

    copy = tempfile.TemporaryFile(prefix="sqlrun-")
    digest = Checksum()
    with open(script.path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
            copy.write(block)
    copy.flush()
    if digest.hexdigest() != checksum:
        copy.close()
        raise changed_while_read(script)
    return copy


def _reopen(source: BinaryIO) -> BinaryIO:
    """A reader of ``source`` from its start (a duplicate descriptor: closing it leaves ``source`` open)."""
    fh = os.fdopen(os.dup(source.fileno()), "rb")
    fh.seek(0)
    return fh


def changed_while_read(script: Script) -> ScriptError:
    """The error for a script whose bytes changed after sqlrun checksummed them."""
    return ScriptError(
        f"{script.path}: the file changed while sqlrun was reading it (after its checksum was taken); "
        "what was read of it is not committed or recorded: save it completely, then run again"
    )


def new_script(directory: Path, name: str, *, repeatable: bool = False) -> Path:
    """Create the next numbered script in ``directory``, with the width of the numbers already there
    (or, ``repeatable``, the script R__name.sql)."""
    import re

    slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()
    if not slug:
        raise ConfigError(f"{name!r} has no letters or digits to name a script with")
    directory.mkdir(parents=True, exist_ok=True)
    if repeatable:
        return _new_repeatable(directory, slug, name)
    numbers = [m[0] for m in (script_name(p.name) for p in directory.iterdir()) if m]
    last = max(numbers, key=int, default=None)
    width = len(last) if last else 3
    number = str(int(last) + 1 if last else 1).zfill(width)
    path = directory / f"{number}_{slug}.sql"
    if path.exists():
        raise ConfigError(f"{path} already exists")
    path.write_text(f"-- {number}_{slug}: {name}\n{TEMPLATE_NOTE}\n", encoding="utf-8")
    return path


def is_template(script: Script) -> bool:
    """True when the script starts with the header that `new` writes (its comment lines, as written)."""
    with script.open() as fh:
        head = fh.read(len(TEMPLATE_NOTE) + 4096).lstrip("\ufeff").replace("\r\n", "\n")
    first, _, rest = head.partition("\n")
    return first.startswith(f"-- {os.path.basename(script.path).split('.', 1)[0]}: ") and rest.startswith(TEMPLATE_NOTE)


def _new_repeatable(directory: Path, slug: str, name: str) -> Path:
    path = directory / f"R__{slug}.sql"
    if path.exists():
        raise ConfigError(f"{path} already exists: edit it, that is what a repeatable script is for")
    path.write_text(
        f"-- R__{slug}: {name}\n"
        "-- Repeatable: applied after the numbered scripts, again whenever this file changes. Write it so that\n"
        "-- it can run again: CREATE OR REPLACE VIEW / FUNCTION, DROP ... IF EXISTS before CREATE.\n\n",
        encoding="utf-8",
    )
    return path
