"""Encoding of a raw file: UTF-8 (a BOM is stripped) or CP949 (transcoded to UTF-8); anything
else stops with the byte offset, line and column. The file is streamed in pieces that end at a
newline, so a file of any size is checked and written with bounded memory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .output import atomic_target, link

CHUNK_BYTES = 16 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class Scan:
    encoding: str  # "utf-8", "utf-8-sig" or "cp949"
    action: str  # what was written to the output directory
    bytes: int  # size of the raw file
    physical_lines: int  # lines in the file (header included)


def _count_lines(total_newlines: int, last_byte: bytes) -> int:
    return total_newlines + (1 if last_byte not in (b"", b"\n") else 0)


def line_pieces(path: Path, skip: int = 0):
    """Yield (offset, bytes) pieces of the file that end at a newline (except the last).

    Neither UTF-8 nor CP949 uses 0x0A inside a multi-byte character, so every piece can
    be decoded on its own and error offsets are exact."""
    with open(path, "rb") as fh:
        fh.seek(skip)
        offset = skip
        carry = b""
        while True:
            chunk = fh.read(CHUNK_BYTES)
            if not chunk:
                if carry:
                    yield offset, carry
                return
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            yield offset, data[:cut]
            offset += cut
            carry = data[cut:]


def _locate(path: Path, offset: int) -> tuple[int, int]:
    """1-based (line, byte column) of a byte offset."""
    with open(path, "rb") as fh:
        head = fh.read(offset)
    line = head.count(b"\n") + 1
    return line, offset - (head.rfind(b"\n") + 1) + 1


def _utf8_scan(path: Path, skip: int) -> tuple[int | None, int]:
    """(offset of the first byte that is not UTF-8 or None, physical lines when it all is)."""
    newlines = 0
    last = b""
    for offset, piece in line_pieces(path, skip):
        if not piece.isascii():
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError as exc:
                return offset + exc.start, 0
        newlines += piece.count(b"\n")
        last = piece[-1:]
    return None, _count_lines(newlines, last)


def _copy_without_bom(path: Path, out: Path) -> None:
    tmp = atomic_target(out)
    tmp.unlink(missing_ok=True)
    with open(tmp, "wb") as dst:
        dst.writelines(piece for _, piece in line_pieces(path, len(UTF8_BOM)))
    os.replace(tmp, out)


def _not_cp949_either(name: str, path: Path, utf8_bad: int, cp_bad: int, sample: bytes) -> InputError:
    u_line, u_col = _locate(path, utf8_bad)
    c_line, c_col = _locate(path, cp_bad)
    return InputError(
        f"{name} line {u_line}: not valid UTF-8 (byte offset {utf8_bad}, "
        f"byte {u_col} of the line) and not valid CP949 either (byte offset "
        f"{cp_bad}, line {c_line}, byte {c_col} of the line: "
        f"{sample!r}). Re-save the file as UTF-8."
    )


def _transcode_cp949(name: str, path: Path, out: Path, utf8_bad: int) -> int:
    """Write `out` as UTF-8 from a CP949 file, piece by piece; returns its physical lines."""
    tmp = atomic_target(out)
    tmp.unlink(missing_ok=True)
    newlines = 0
    last = b""
    try:
        with open(tmp, "wb") as dst:
            for offset, piece in line_pieces(path, 0):
                try:
                    text = piece.decode("cp949")
                except UnicodeDecodeError as exc:
                    raise _not_cp949_either(
                        name, path, utf8_bad, offset + exc.start, piece[exc.start : exc.start + 4]
                    ) from None
                newlines += piece.count(b"\n")
                last = piece[-1:]
                dst.write(text.encode("utf-8"))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    return _count_lines(newlines, last)


def scan_and_write(name: str, path: Path, out: Path) -> Scan:
    """Validate the encoding, then link or write a clean UTF-8 copy to ``out``."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        has_bom = fh.read(len(UTF8_BOM)) == UTF8_BOM
    utf8_bad, lines = _utf8_scan(path, len(UTF8_BOM) if has_bom else 0)
    if utf8_bad is None and not has_bom:
        return Scan("utf-8", link(path, out), size, lines)
    if utf8_bad is None:
        _copy_without_bom(path, out)
        return Scan("utf-8-sig", "copied, UTF-8 BOM stripped", size, lines)
    # Not UTF-8: try CP949 (Korean Windows).
    return Scan("cp949", "transcoded from CP949", size, _transcode_cp949(name, path, out, utf8_bad))
