"""What a spreadsheet program may have saved instead of a UTF-8, comma-separated file.

Excel saves "CSV (Comma delimited)" in the system's code page (GBK/GB18030 on Chinese
Windows, Windows-1252 in Western Europe), "Unicode Text" as UTF-16 with tabs, and, where the
list separator is ``;`` (most of continental Europe), CSV with semicolons and decimal commas.
allocator reads none of these: guessing an encoding can decode every byte into the wrong
characters without an error, and a guessed delimiter or decimal separator can turn 1,5 into
15. Each function here recognises one case and says, in the planner's words, what was found
and how to save the file so that it reads; the reader (:mod:`allocator.input.validation`)
turns that into a problem with the file and row (exit 2).
"""

from __future__ import annotations

import re

#: how to save a file as allocator reads it, in the programs planners use
SAVE_AS_UTF8 = ("save it as UTF-8: in Excel, File > Save As > 'CSV UTF-8 (Comma delimited) "
                "(*.csv)'; in LibreOffice Calc, Save As 'Text CSV' with 'Edit filter "
                "settings' ticked, character set 'Unicode (UTF-8)'")

_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_EUROPEAN = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")  # 1.234,5


def encoding_problem(data: bytes, file: str) -> tuple[int | None, str] | None:
    """(spreadsheet row, message) when ``data`` is not UTF-8 (a byte-order mark is fine);
    None when it is. The row is the line of the first byte UTF-8 cannot read."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, ("the file is UTF-16 (Excel's 'Unicode Text' format), not UTF-8 as "
                      f"allocator reads it; {SAVE_AS_UTF8}")
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
    else:
        return None
    row = data[:start].count(b"\n") + 1
    begin = data.rfind(b"\n", 0, start) + 1
    end = data.find(b"\n", start)
    line = data[begin:end if end >= 0 else len(data)].rstrip(b"\r")
    try:
        shown = line.decode("gb18030")
    except UnicodeDecodeError:
        shown = ""
    if shown and _CJK.search(shown):
        return row, ("the file is not UTF-8: this row reads as GBK/GB18030, the encoding "
                     "Excel on Chinese Windows uses for 'CSV (Comma delimited)', as "
                     f"{shown!r}; {SAVE_AS_UTF8}; or convert it with "
                     f"`iconv -f GB18030 -t UTF-8 {file} > utf8.csv`")
    return row, (f"the file is not UTF-8: byte 0x{data[start]:02x} on this row is not "
                 "UTF-8 (Excel saves 'CSV (Comma delimited)' in the computer's own code page, "
                 f"e.g. Windows-1252 or GBK); {SAVE_AS_UTF8}")


def delimiter_problem(text: str, columns: int) -> str | None:
    """A message when the header row of ``text`` (the file, decoded) splits into more
    columns at ``;`` or at a tab than the ``columns`` it has at commas; it names the decimal
    separator too when the data rows hold numbers with a decimal comma."""
    lines = text.splitlines()
    if not lines:
        return None
    header = lines[0]
    for sep, name in ((";", "';'"), ("\t", "tab")):
        if len(header.split(sep)) <= max(columns, 1):
            continue
        cells = [c.strip().strip('"') for line in lines[1:] for c in line.split(sep)]
        comma = any(_DECIMAL_COMMA.match(c) or _EUROPEAN.match(c) for c in cells)
        found = f"the delimiter {name}" + (" and the decimal separator ','" if comma else "")
        return (f"the file uses {found} (as Excel saves CSV where the Windows list "
                f"separator is {name}); allocator reads comma-separated values with '.' as "
                "the decimal separator. Save it with ',' between fields and '.' in numbers: "
                "Excel takes both from the Windows region settings (Control Panel > Region > "
                "Additional settings: list separator ',', decimal symbol '.'); LibreOffice "
                "Calc asks for the field delimiter when it saves a CSV")
    return None


def number_hint(text: str) -> str:
    """A hint for a number cell that failed to read because it is written with a decimal
    comma (``10,5``, ``1.234,5``); "" for anything else."""
    if _EUROPEAN.match(text):
        plain = text.replace(".", "").replace(",", ".")
        return f"; the decimal separator is '.' and there is no thousands separator: write {plain}"
    if _DECIMAL_COMMA.match(text):
        whole, frac = text.split(",")
        hint = f"; the decimal separator is '.': write {whole}.{frac}"
        if len(frac) == 3:
            hint += f" (or {whole}{frac} if ',' separates thousands: numbers have none)"
        return hint
    return ""
