"""Text encodings of office files: CSV and Shapefile attributes (UTF-8, or GBK/GB18030).

Excel on Chinese Windows saves CSV as GBK; old GIS software writes Shapefiles in GBK without a
``.cpg`` and with code page byte 0 in the ``.dbf``, which GDAL then reads as Latin-1 mojibake.
:func:`decode_text` and :func:`shapefile_encoding` decide: what was given, else what the file
declares, else UTF-8 when the bytes are valid UTF-8, otherwise GB18030 (a superset of GBK). A
table in UTF-16 (Excel's "Unicode text" export) is read as such.
"""

from __future__ import annotations

import codecs
import glob
from collections.abc import Iterator
from pathlib import Path

from gridmap.io.notes import ReadNote
from gridmap.io.readerrors import read_error

__all__ = ["CSV_ENCODINGS", "decode_text", "dbf_text_encoding", "detect_shapefile_encoding",
           "shapefile_encoding"]  # fmt: skip

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
"""Codecs tried, in order, for tables without a given encoding."""


def decode_text(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """The text of ``path`` and the encoding read (UTF-8, else GB18030, unless ``encoding``)."""
    data = path.read_bytes()
    if encoding is not None:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding.upper()
        except (UnicodeDecodeError, LookupError) as exc:
            raise read_error(
                "not_decodable_as", file=path.name, encoding=encoding, detail=str(exc)
            ) from exc
    utf16 = _utf16_codec(data)
    if utf16 is not None:  # Excel's "Unicode text" (.txt, tab-separated)
        try:
            return data.decode(utf16).removeprefix("\ufeff"), "UTF-16"
        except UnicodeDecodeError:
            raise read_error("not_text", file=path.name) from None
    for codec, name in zip(CSV_ENCODINGS, ("UTF-8", "GB18030"), strict=True):
        try:
            return data.decode(codec), name
        except UnicodeDecodeError:
            continue
    raise read_error("not_text", file=path.name)


def _utf16_codec(data: bytes) -> str | None:
    """``"utf-16"`` for text with a UTF-16 byte order mark, ``"utf-16-le"``/``"-be"`` for text
    without one where many bytes of one parity at the start are zero (the high bytes of ASCII
    separators, digits and line ends) and hardly any of the other, or that reads as a UTF-16
    table and not as 8-bit text (:func:`_utf16_table`: mostly Chinese, few zero bytes); else
    ``None`` (UTF-8 and GB18030 text hold no zero byte, but a stray NUL in one must not make it
    UTF-16)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = data[:_UTF16_SAMPLE]
    if b"\0" not in head:
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    most, least = max(odd, even), min(odd, even)
    if most >= _UTF16_ZERO_SHARE * len(head) / 2 and least <= most / 10:
        return "utf-16-le" if odd > even else "utf-16-be"
    return _utf16_table(data[:_UTF16_TEXT_SAMPLE])


_UTF16_SAMPLE = 4096
_UTF16_ZERO_SHARE = 0.1  # of one parity's bytes: a UTF-16 table of ASCII-heavy text has ≥ 10 %
_UTF16_TEXT_SAMPLE = 1 << 16


def _utf16_table(head: bytes) -> str | None:
    """``"utf-16-le"`` or ``"-be"`` when ``head`` (a file's start) is a table in that encoding
    without byte order mark, although mostly Chinese (few zero bytes): it decodes strictly (no
    lone surrogate), holds ASCII line ends and separators (``0A 00``, ``2C 00`` in UTF-16-LE)
    and nearly nothing but Chinese, ASCII and common punctuation (:func:`_table_like`); and it
    is no plausible 8-bit text: as UTF-8 or GB18030 the ASCII of UTF-16 reads as NULs. GBK or
    UTF-8 bytes read as UTF-16 give no ASCII at all (they hold no zero byte), so no line end."""
    if _plausible_8bit(head):
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        decoder = codecs.getincrementaldecoder(codec)("strict")
        try:
            text = decoder.decode(head[: len(head) // 2 * 2], final=False)
        except UnicodeDecodeError:
            continue
        if _table_like(text):
            return codec
    return None


def _plausible_8bit(head: bytes) -> bool:
    """True if ``head`` reads as UTF-8 or GB18030 text with hardly any control character (a
    stray NUL, not the NUL of every ASCII character of UTF-16)."""
    for codec in CSV_ENCODINGS:
        text = head.decode(codec, "replace")  # a character cut at the sample's end
        control = sum(1 for c in text if c < " " and c not in "\t\r\n")
        if control <= _CONTROL_SHARE * len(text):
            return True
    return False


_CONTROL_SHARE = 0.005


def _table_like(text: str) -> bool:
    """True if ``text`` has line ends and separators and :data:`_TABLE_CHARS` make up nearly
    all of it."""
    if "\n" not in text or not any(sep in text for sep in ",\t;"):
        return False
    odd = sum(1 for c in text if not any(lo <= c <= hi for lo, hi in _TABLE_CHARS))
    return odd <= _ODD_SHARE * len(text)


_TABLE_CHARS = (("\t", "\n"), ("\r", "\r"), (" ", "~"), ("\u00a0", "\u00ff"),
                ("\u2000", "\u206f"), ("\u2100", "\u218f"), ("\u2460", "\u24ff"),
                ("\u25a0", "\u25ff"), ("\u3000", "\u303f"), ("\u3200", "\u32ff"),
                ("\u3400", "\u4dbf"), ("\u4e00", "\u9fff"), ("\ufe30", "\ufe4f"),
                ("\uff00", "\uffef"))  # fmt: skip
"""What a Chinese table holds: ASCII, Latin-1 (·, °), general punctuation (“”…—), №, Roman
numerals, ①, ■○, CJK punctuation, ㈠, CJK ideographs (and Extension A), fullwidth forms."""
_ODD_SHARE = 0.01


_DBF_CODE_PAGE_BYTE = 29


def shapefile_encoding(
    path: Path, encoding: str | None, notes: list[ReadNote]
) -> tuple[str | None, str | None]:
    """How to read a Shapefile's text: ``(encoding for the reader, encoding to report)``.

    Order: ``encoding`` if given; the ``.cpg`` (GDAL interprets it: ``UTF-8``, ``936``, ``GBK``
    …) unless the text is plainly the other of UTF-8 and GBK (a ``.cpg`` saying UTF-8 or 65001
    beside GBK text, which GDAL reads as Latin-1); the code page byte of the ``.dbf`` (GDAL
    maps it); else UTF-8 if every text field is valid UTF-8, otherwise GB18030. A reader
    encoding of ``None`` leaves the choice to GDAL. A :class:`~gridmap.io.notes.ReadNote` for
    the person who gave the file is appended to ``notes``.
    """
    if encoding is not None:
        notes.append(ReadNote.of("encoding_given", path.name, encoding=encoding.upper()))
        return encoding, encoding.upper()
    files = _shapefile_parts(path)
    if files is None:
        return None, None
    cpg, dbf = files
    if cpg is not None and (declared := cpg.decode("ascii", "replace").strip()):
        detected = dbf_text_encoding(dbf, records=_CPG_CHECK_RECORDS)
        if detected is not None and _family(detected) != _family(declared) != "other":
            notes.append(ReadNote.of("encoding_not_declared", path.name, encoding=detected,
                                     declared=declared.upper()))  # fmt: skip
            return detected, detected
        notes.append(ReadNote.of("encoding_cpg", path.name, encoding=declared.upper()))
        return None, declared.upper()
    if len(dbf) > _DBF_CODE_PAGE_BYTE and dbf[_DBF_CODE_PAGE_BYTE] != 0:
        return None, None  # GDAL maps the dBASE code page itself
    detected = dbf_text_encoding(dbf)
    if detected is not None:
        notes.append(ReadNote.of("encoding_detected", path.name, encoding=detected))
    return detected, detected


_CPG_CHECK_RECORDS = 5000
"""Records whose text is checked against the ``.cpg`` (enough to tell UTF-8 from GBK)."""
_UTF8_NAMES = frozenset({"UTF8", "65001", "UTF-8", "UTF_8"})
_GBK_NAMES = frozenset({"GBK", "936", "CP936", "GB2312", "GB18030", "54936", "ANSI936",
                        "MS936", "WINDOWS-936", "EUC-CN"})  # fmt: skip


def _family(encoding: str) -> str:
    """``"utf-8"``, ``"gbk"`` (GB2312, GBK, GB18030 and their code pages) or ``"other"``."""
    name = encoding.upper().replace(" ", "")
    return "utf-8" if name in _UTF8_NAMES else "gbk" if name in _GBK_NAMES else "other"


def _shapefile_parts(path: Path) -> tuple[bytes | None, bytes] | None:
    """The ``.cpg`` (or ``None``) and ``.dbf`` bytes of a shapefile (a zipped one is read
    from the files extracted of it)."""
    if path.suffix.lower() not in (".shp", ".dbf"):
        return None
    siblings = {p.suffix.lower(): p for p in path.parent.glob(f"{glob.escape(path.stem)}.*")}
    if ".dbf" not in siblings:
        return None
    cpg = siblings.get(".cpg")
    return (cpg.read_bytes() if cpg else None), siblings[".dbf"].read_bytes()


def dbf_text_encoding(dbf: bytes, records: int | None = None) -> str | None:
    """``"UTF-8"`` if the field names and text fields (of the first ``records`` records, default
    all) are valid UTF-8, ``"GB18030"`` if not; ``None`` if all of it is ASCII (nothing to
    decide) or the file is not dBASE."""
    try:
        chunks = list(_dbf_text_chunks(dbf, records))
    except (IndexError, ValueError):
        return None
    non_ascii = [c for c in chunks if not c.isascii()]
    if not non_ascii:
        return None
    return "UTF-8" if all(_utf8_but_cut(c) for c in non_ascii) else "GB18030"


def _utf8_but_cut(chunk: bytes) -> bool:
    """True if ``chunk`` is UTF-8, perhaps cut inside its last character (fixed-width fields)."""
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data" and exc.start >= len(chunk) - 3
    return True


def detect_shapefile_encoding(path: Path) -> str | None:
    """What the ``.dbf`` text looks like, whatever the ``.cpg`` says (see
    :func:`dbf_text_encoding`); ``None`` if unreadable or all ASCII."""
    parts = _shapefile_parts(path)
    return None if parts is None else dbf_text_encoding(parts[1])


def _dbf_text_chunks(dbf: bytes, records: int | None = None) -> Iterator[bytes]:
    """Field names and the values of character fields of a dBASE file (of its first
    ``records`` records, default all), as raw bytes."""
    n_records = int.from_bytes(dbf[4:8], "little")
    n_records = n_records if records is None else min(records, n_records)
    header_len = int.from_bytes(dbf[8:10], "little")
    record_len = int.from_bytes(dbf[10:12], "little")
    fields, pos, offset = [], 32, 1  # each record starts with a deletion flag
    while pos + 32 <= header_len and dbf[pos] != 0x0D:
        desc = dbf[pos : pos + 32]
        width = desc[16] + (0 if desc[11:12] in (b"N", b"F") else desc[17] << 8)
        yield desc[:11].split(b"\0", 1)[0]
        if desc[11:12] == b"C":
            fields.append((offset, width))
        offset, pos = offset + width, pos + 32
    for r in range(n_records):
        start = header_len + r * record_len
        record = dbf[start : start + record_len]
        for at, width in fields:
            yield record[at : at + width].rstrip(b" \0")
