"""An XLSX file's parts, checked before openpyxl opens it.

An XLSX file is a zip of XML parts, and a small one can unpack to gigabytes (a zip bomb), hold
millions of shared strings, or cells and elements that openpyxl keeps in memory while it reads:
it loads the shared strings whole, builds each row's cells at once, and keeps every element of a
part that it does not clear (an unknown one, or any element of a part it parses whole, such as
the styles). So before openpyxl sees the file, the zip's directory is checked (parts, unpacked
size, compression ratio), then every part is unpacked once, chunk by chunk, and its tags counted
at C speed: cells in a row, shared strings, elements, the length of a text, and no DTD.

What is counted is the markup, not a parse: a `<c` inside a CDATA section counts as a cell. That
errs on the refusing side, and Excel and WPS write no CDATA.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator

from engine import texts

MAX_PARTS = 1_000
MAX_UNPACKED = 256 * 1024 * 1024  # all parts together, as unpacked
MAX_RATIO = 100  # unpacked:packed, for a part past RATIO_FROM bytes (Excel's are ~10:1)
RATIO_FROM = 1024 * 1024
MAX_CELLS_IN_ROW = 16_384  # Excel's own limit of columns
MAX_SHARED_STRINGS = 500_000
MAX_ELEMENTS = 3_000_000  # elements other than rows and cells, all parts together
MAX_TEXT = 256 * 1024  # bytes between two tags: Excel's longest cell, 32,767 characters, escaped
CHUNK = 1024 * 1024

_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|si)[\s/>]")
_DTD = (b"<!DOCTYPE", b"<!ENTITY")


class Refused(Exception):
    """The file is past a limit (`too_large`), or not a workbook Excel writes."""

    def __init__(self, message: str, *, too_large: bool = True) -> None:
        super().__init__(message)
        self.too_large = too_large


def inspect(data: bytes, checkpoint: Callable[[], None]) -> None:
    """Raise Refused if the XLSX bytes are past a limit; a damaged zip passes (openpyxl then
    reports it as unreadable). `checkpoint` is called between chunks; it may raise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise Refused(texts.t("audit.archive.parts", parts=len(parts), limit=MAX_PARTS))
        unpacked = sum(part.file_size for part in parts)
        if unpacked > MAX_UNPACKED:
            raise Refused(texts.t("audit.archive.unpacked", size=unpacked,
                                  limit=MAX_UNPACKED // (1024 * 1024)))
        for part in parts:
            if part.file_size > RATIO_FROM and part.file_size > MAX_RATIO * part.compress_size:
                raise Refused(texts.t("audit.archive.ratio", part=part.filename,
                                      ratio=part.file_size // max(part.compress_size, 1),
                                      limit=MAX_RATIO))
        tally = _Tally()
        for part in parts:
            try:
                for chunk in _markup(archive, part):
                    tally.count(part.filename, chunk)
                    checkpoint()
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
                    RuntimeError):
                return  # damaged or encrypted: openpyxl says it cannot read the file


def _markup(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's bytes in chunks that each end just before a `<`, so that no tag is split."""
    rest = b""
    with archive.open(part) as stream:
        while block := stream.read(CHUNK):
            block = rest + block
            cut = block.rfind(b"<")
            if cut <= 0:  # no tag start past the first byte: hold on (up to MAX_TEXT)
                if len(block) > MAX_TEXT:
                    raise Refused(texts.t("audit.archive.long_text", part=part.filename,
                                          limit=MAX_TEXT // 1024))
                rest = block
                continue
            rest = block[cut:]
            yield block[:cut]
    if rest:
        yield rest


class _Tally:
    """The counts across every part of one file."""

    def __init__(self) -> None:
        self.elements = 0
        self.strings = 0
        self.part = ""
        self.cells = 0  # cells since the part's last row tag

    def count(self, part: str, chunk: bytes) -> None:
        if part != self.part:
            self.part, self.cells = part, 0
        if any(mark in chunk for mark in _DTD):
            raise Refused(texts.t("audit.archive.dtd", part=part), too_large=False)
        pieces = chunk.split(b"<")
        if max(map(len, pieces)) > MAX_TEXT:
            raise Refused(texts.t("audit.archive.long_text", part=part, limit=MAX_TEXT // 1024))
        rows = cells = strings = 0
        for name in _TAG.findall(chunk):
            if name == b"c":
                self.cells += 1
                cells += 1
                if self.cells > MAX_CELLS_IN_ROW:
                    raise Refused(texts.t("audit.archive.cells", part=part,
                                          limit=MAX_CELLS_IN_ROW))
            elif name == b"row":
                self.cells = 0
                rows += 1
            else:
                strings += 1
        self.strings += strings
        if self.strings > MAX_SHARED_STRINGS:
            raise Refused(texts.t("audit.archive.strings", limit=MAX_SHARED_STRINGS))
        tags = len(pieces) - 1 - chunk.count(b"</") - chunk.count(b"<?") - chunk.count(b"<!")
        self.elements += tags - rows - cells
        if self.elements > MAX_ELEMENTS:
            raise Refused(texts.t("audit.archive.elements", limit=MAX_ELEMENTS))
