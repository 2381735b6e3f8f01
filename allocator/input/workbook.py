"""Excel workbooks: an instance as one ``.xlsx`` file, conversion both ways, results.xlsx.

An instance workbook has one sheet per table, named like the table (``regions``, ``sites``,
...), with the same columns as the CSV files, and a sheet ``settings`` holding
``instance.toml`` as rows of ``section | key | value | comment``:

* a key row: ``objective | site_excess | 100 | money per host region beyond the target``;
* a row with only ``section``: the start of that ``[section]``;
* a row with only ``comment`` (and its section): a comment line of the TOML file.

Values are typed cells: numbers, TRUE/FALSE, text. Text that starts with ``[``, ``{``, ``"`` or
``'`` is read as a TOML value (a list such as ``["duplication_neighbors"]``, a quoted string).

:class:`WorkbookReader` reads a workbook into the same text tables that the CSV reader
produces (index = sheet row, the header being row 1), so every check of
:mod:`allocator.input.validation` runs unchanged; each problem is then located as Excel shows it:
``china-sei.xlsx, sites!D14 (column 'max_capacity')``.

:func:`folder_to_workbook` and :func:`workbook_to_folder` convert a valid instance without
loss: the same settings (comments kept), the same tables, row for row, so the same solve.
:func:`write_results_workbook` writes every result table, one sheet each, plus the summary.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import tomli_w
from defusedxml.common import DefusedXmlException
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from allocator.core.errors import InputError, Problem
from allocator.core.schema import TableSpec
from allocator.input.validation import FALSE_WORDS, TOML, TRUE_WORDS, RawInstance, Reader

SETTINGS = "settings"
#: the most parts an ``.xlsx`` archive may hold to be read (see :func:`_unsafe_archive`)
MAX_MEMBERS = 10_000
#: the most bytes an ``.xlsx`` archive may expand to (256 MiB; about 400 times the
#: generated national instance of 337 regions x 40 industries as a workbook, 0.6 MB)
MAX_UNCOMPRESSED_BYTES = 256 * 2**20
SETTINGS_COLUMNS = ("section", "key", "value", "comment")
_TOML_LITERAL_START = ("[", "{", '"', "'")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_PLAIN_SHEET = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


# ---------------------------------------------------------------------- settings as rows
@dataclass(frozen=True)
class SettingRow:
    """One row of the ``settings`` sheet (one line of ``instance.toml``)."""

    section: str  # dotted path of the TOML table ("" for top-level keys)
    key: str = ""  # "" for a section start or a comment line
    value: Any = None
    comment: str = ""


def toml_to_rows(text: str) -> list[SettingRow]:
    """The lines of an ``instance.toml`` as settings rows, comments kept.

    Raises ``ValueError`` for TOML that a sheet cannot hold (arrays of tables)."""
    rows: list[SettingRow] = []
    section = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        i += 1
        if not stripped:
            continue
        if stripped.startswith("#"):
            rows.append(SettingRow(section, comment=stripped[1:].strip()))
            continue
        if stripped.startswith("[["):
            raise ValueError(f"arrays of tables ({stripped}) cannot be held in a sheet")
        if stripped.startswith("["):
            parsed, comment = _parse_with_comment([stripped])
            section = ".".join(_table_path(parsed))
            rows.append(SettingRow(section))
            if comment:
                rows.append(SettingRow(section, comment=comment))
            continue
        chunk = [lines[i - 1]]
        while True:  # a value may span lines (multi-line strings and arrays)
            try:
                tomllib.loads("\n".join(chunk))
                break
            except tomllib.TOMLDecodeError:
                if i >= len(lines):
                    raise
                chunk.append(lines[i])
                i += 1
        parsed, comment = _parse_with_comment(chunk)
        key = chunk[0].split("=", 1)[0].strip()
        value: Any = parsed
        for part in _split_key(key):
            value = value[part]
        rows.append(SettingRow(section, key, value, comment))
    return rows


def _parse_with_comment(chunk: list[str]) -> tuple[dict[str, Any], str]:
    """Parse TOML lines; the comment is what follows the first ``#`` on the last line after
    which the text still parses to the same value (a ``#`` inside a string does not)."""
    text = "\n".join(chunk)
    parsed = tomllib.loads(text)
    head, last = "\n".join(chunk[:-1]), chunk[-1]
    for pos in [m.start() for m in re.finditer("#", last)]:
        candidate = (head + "\n" if head else "") + last[:pos]
        try:
            if tomllib.loads(candidate) == parsed:
                return parsed, last[pos + 1:].strip()
        except tomllib.TOMLDecodeError:
            continue
    return parsed, ""


def _table_path(parsed: dict[str, Any]) -> list[str]:
    path: list[str] = []
    node: Any = parsed
    while isinstance(node, dict) and len(node) == 1:
        (key, node), = node.items()
        path.append(key)
    return path


def _split_key(key: str) -> list[str]:
    """``a.b`` -> ["a", "b"]; quoted parts lose their quotes."""
    return [p.strip().strip('"').strip("'") for p in key.split(".")]


def _key_text(key: str) -> str:
    return ".".join(p if _BARE_KEY.fullmatch(p) else json.dumps(p) for p in _split_key(key))


def rows_to_toml(rows: Iterable[SettingRow]) -> str:
    """Write settings rows as ``instance.toml`` text (top-level keys first, then each section
    in the order it first appears, rows in sheet order within it)."""
    order: dict[str, list[SettingRow]] = {"": []}
    for row in rows:
        order.setdefault(row.section, []).append(row)
    out: list[str] = []
    for section, block in order.items():
        if section:
            if out:
                out.append("")
            out.append(f"[{_key_text(section)}]")
        for row in block:
            if row.key:
                line = f"{_key_text(row.key)} = {toml_value(row.value)}"
                out.append(line + (f"  # {row.comment}" if row.comment else ""))
            elif row.comment:
                out.append(f"# {row.comment}")
    return "\n".join(out) + "\n"


def toml_value(value: Any) -> str:
    """A value as TOML text."""
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def setting_cell(value: Any) -> Any:
    """What to put in the ``value`` cell for a setting (read back by :func:`setting_value`)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else toml_value(value)
    if isinstance(value, float):
        if _cell_keeps(value):
            return value
        raise ValueError(f"{value!r} needs 17 significant digits; a workbook cell keeps 16: "
                         "round it in instance.toml")
    if isinstance(value, str):
        ambiguous = value.strip().startswith(_TOML_LITERAL_START) or value.strip().lower() in (
            "true", "false") or value != value.strip()
        return toml_value(value) if ambiguous else value
    return toml_value(value)  # lists, inline tables, dates


def setting_value(cell: Any) -> Any:
    """The setting a ``value`` cell holds (see the module docstring); ValueError if a TOML
    literal cannot be read."""
    if isinstance(cell, str):
        text = cell.strip()
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        if text.startswith(_TOML_LITERAL_START):
            return tomllib.loads(f"v = {text}")["v"]
    return cell


# ---------------------------------------------------------------------- cells
def cell_text(value: Any) -> str:
    """A cell as the text a CSV file would hold (what the validation reads)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _cell_keeps(value: float) -> bool:
    """openpyxl writes numbers with 16 significant digits: true when that is exact."""
    return float("%.16g" % value) == value  # noqa: UP031 (openpyxl's own format)


def table_cell(text: str, kind: str) -> Any:
    """The typed cell for a CSV cell of a column of ``kind``: numbers as numbers, booleans as
    TRUE/FALSE, everything else (ids, text, anything unparseable) as the text itself."""
    if text == "":
        return None
    if kind in ("float", "int"):
        try:
            number = float(text)
        except ValueError:
            return text
        if number != number or number in (float("inf"), float("-inf")):
            return text
        if re.fullmatch(r"[+-]?\d+", text.strip()) and abs(int(text)) < 2**53:
            return int(text)
        return number if _cell_keeps(number) else text
    if kind == "bool":
        low = text.strip().lower()
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
    return text


def cell_name(sheet: str, row: int | None, letter: str | None) -> str:
    """``sites!D14`` as Excel shows it (a sheet name with spaces is quoted)."""
    ref = sheet if _PLAIN_SHEET.fullmatch(sheet) else "'" + sheet.replace("'", "''") + "'"
    if row is not None and letter:
        return f"{ref}!{letter}{row}"
    if row is not None:
        return f"{ref}!{row}:{row}"
    if letter:
        return f"{ref}!{letter}:{letter}"
    return f"sheet '{sheet}'"


# ---------------------------------------------------------------------- reading
class WorkbookReader(Reader):
    """Reads an instance workbook; every check is the CSV reader's (see the module doc)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.sheets: dict[str, list[tuple[Any, ...]]] = {}
        self.letters: dict[str, dict[str, str]] = {}  # sheet -> column name -> letter
        self.setting_rows: list[SettingRow] = []
        self.setting_at: dict[str, int] = {}  # dotted key or section -> sheet row
        self.tables_known: set[str] = set()

    # the workbook's folder holds the family files named in [families] extra
    def _root(self) -> Path:
        return self.path.resolve().parent

    def _check_path(self) -> None:
        if not self.path.is_file():
            raise InputError([Problem(str(self.path), "workbook does not exist")])

    def file_of(self, table: str) -> str:
        return self.files.get(table, table)

    def run(self, extra: list[Any], without: list[str]) -> RawInstance:
        try:
            return super().run(extra, without)
        except InputError as exc:
            raise InputError([self._locate(p) for p in exc.problems]) from None

    def _locate(self, p: Problem) -> Problem:
        """Say where a problem is as Excel shows it: ``book.xlsx, sites!D14 (column 'x')``;
        settings problems point at the value cell of their key in the sheet ``settings``."""
        if p.file == TOML:
            if p.location:
                return replace(p, file=SETTINGS)
            key = (p.column or "").strip("[]")
            row = self.setting_at.get(key)
            letter = ("A" if (p.column or "").startswith("[") else "C") if row else None
            where = f"{self.path.name}, {cell_name(SETTINGS, row, letter)}"
            if p.column:
                where += f" ({p.column})"
            return replace(p, file=SETTINGS, location=where, row=row)
        sheet = p.file[:-4] if p.file.endswith(".csv") else p.file
        if p.location or sheet not in self.tables_known:
            return p  # not about a sheet (a family file, --family)
        letter = self.letters.get(sheet, {}).get(p.column) if p.column else None
        where = f"{self.path.name}, {cell_name(sheet, p.row, letter)}"
        if p.column:
            where += f" (column '{p.column}')"
        message = p.message.replace("required file is missing", "required sheet is missing")
        message = re.sub(r"^file is", "sheet is", message)
        return replace(p, file=sheet, message=message, location=where)

    def _problem(self, sheet: str, message: str, row: int | None = None,
                 letter: str | None = None, **kw: Any) -> None:
        """A problem at a cell found while reading the sheets (located already)."""
        where = f"{self.path.name}, {cell_name(sheet, row, letter)}"
        file = TOML if sheet == SETTINGS else sheet
        self.problems.append(Problem(file, message, row=row, location=where, **kw))

    # ------------------------------------------------------------------ settings
    def _read_toml(self) -> dict[str, Any]:
        data = self.path.read_bytes()
        self.hashes[self.path.name] = hashlib.sha256(data).hexdigest()
        unsafe = _unsafe_archive(data)
        if unsafe:
            raise InputError([Problem(self.path.name, unsafe)])
        try:
            self.sheets, unsaved = _load_sheets(io.BytesIO(data))
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            entity = _defused(exc)
            if entity is not None:
                raise InputError([Problem(self.path.name, "contains XML entity declarations "
                                          f"({type(entity).__name__}: {entity}), which an "
                                          "Excel workbook never needs and XML entity attacks "
                                          "use (expanding to gigabytes, reading local "
                                          "files): not read. Open and save it in Excel, or "
                                          "ask for a clean copy")]) from exc
            raise InputError([Problem(self.path.name, f"cannot be read as an Excel workbook "
                                      f"(.xlsx): {type(exc).__name__}: {exc}")]) from exc
        for sheet, row, letter, formula in unsaved:
            self._problem(sheet, f"the formula {formula} has no saved value (a program other "
                          "than Excel wrote it): open and save the workbook in Excel, or type "
                          "the value", row, letter)
        self.files["instance.toml"] = SETTINGS
        rows = self.sheets.get(SETTINGS)
        if rows is None:
            self._problem(SETTINGS, "sheet is missing: every instance workbook needs a sheet "
                          "'settings' with columns section, key, value, comment and at least "
                          "the key name")
            return {}
        return self._settings(rows)

    def _settings(self, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
        header = [cell_text(v).strip() for v in (rows[0] if rows else ())]
        self.letters[SETTINGS] = {h: get_column_letter(j + 1) for j, h in enumerate(header)
                                  if h}
        missing = [c for c in SETTINGS_COLUMNS[:3] if c not in header]
        if missing:
            self._problem(SETTINGS, "the header row needs the columns " + ", ".join(
                SETTINGS_COLUMNS) + f" (missing: {', '.join(missing)})", row=1)
            return {}
        for h in header:
            if h and h not in SETTINGS_COLUMNS:
                self._problem(SETTINGS, "unknown column; expected columns: "
                              + ", ".join(SETTINGS_COLUMNS), row=1,
                              letter=self.letters[SETTINGS][h], column=h)
        pos = {c: header.index(c) for c in SETTINGS_COLUMNS if c in header}
        settings: dict[str, Any] = {}
        for number, values in enumerate(rows[1:], start=2):
            def get(col: str, values: tuple[Any, ...] = values) -> Any:
                j = pos.get(col)
                return values[j] if j is not None and j < len(values) else None

            section = cell_text(get("section")).strip()
            key = cell_text(get("key")).strip()
            cell = get("value")
            comment = cell_text(get("comment")).strip()
            if not key:
                if cell not in (None, ""):
                    self._problem(SETTINGS, "a value without a key", number, "C", value=cell)
                if section or comment:
                    self.setting_rows.append(SettingRow(section, comment=comment))
                    if section:
                        self.setting_at.setdefault(section, number)
                        _node(settings, _split_key(section))
                continue
            try:
                value = setting_value(cell)
            except tomllib.TOMLDecodeError as exc:
                self._problem(SETTINGS, f"not a TOML value ({exc}); write a list as "
                              "[\"a\", \"b\"], text plain or in quotes", number, "C",
                              value=cell)
                continue
            if cell is None:
                self._problem(SETTINGS, "value is blank; give the setting a value or delete "
                              "the row", number, "C", column=key)
                continue
            path = [*(_split_key(section) if section else []), *_split_key(key)]
            dotted = ".".join(path)
            parent = _node(settings, path[:-1])
            if path[-1] in parent:
                self._problem(SETTINGS, f"duplicate key {dotted}: first given on row "
                              f"{self.setting_at.get(dotted)}", number, "B")
                continue
            parent[path[-1]] = value
            self.setting_at[dotted] = number
            if section:
                self.setting_at.setdefault(section, number)
            self.setting_rows.append(SettingRow(section, key, value, comment))
        return settings

    # ------------------------------------------------------------------ tables
    def _read_tables(self, schema: dict[str, TableSpec], paths: dict[str, Any]
                     ) -> dict[str, pd.DataFrame]:
        self.tables_known = set(schema)
        tables = super()._read_tables(schema, paths)
        for sheet in self.sheets:
            if sheet != SETTINGS and sheet not in schema:
                self._problem(sheet, "unknown sheet; expected sheets: settings, "
                              + ", ".join(schema))
        return tables

    def _read_raw(self, spec: TableSpec, paths: dict[str, Any]
                  ) -> tuple[pd.DataFrame, str] | None:
        """A sheet's cells as text, index = sheet row. ([tables] names the file a table is
        written to by ``convert --to dir``; in a workbook a table is the sheet of its name.)"""
        rows = self.sheets.get(spec.name)
        if rows is None:
            if spec.required:
                self.add(spec.name, "required sheet is missing")
            return None
        if not rows or not any(cell_text(v).strip() for v in rows[0]):
            self.add(spec.name, "sheet is empty: expected a header row with the column names")
            return None
        width = max(len(r) for r in rows)
        header = [cell_text(v).strip() for v in rows[0]] + [""] * (width - len(rows[0]))
        letters: dict[str, str] = {}
        keep: list[int] = []
        for j, name in enumerate(header):
            filled = any(j < len(r) and cell_text(r[j]).strip() for r in rows[1:])
            if not name:
                if filled:
                    self._problem(spec.name, "values in a column without a header", 1,
                                  get_column_letter(j + 1))
                continue
            if name in letters:
                self._problem(spec.name, f"duplicate column '{name}' (first in column "
                              f"{letters[name]})", 1, get_column_letter(j + 1), column=name)
                continue
            letters[name] = get_column_letter(j + 1)
            keep.append(j)
        self.letters[spec.name] = letters
        data = [[cell_text(r[j]) if j < len(r) else "" for j in keep] for r in rows[1:]]
        df = pd.DataFrame(data, columns=[header[j] for j in keep], dtype=str,
                          index=pd.RangeIndex(2, 2 + len(data)))
        blank = (df == "").all(axis=1) if len(df.columns) else pd.Series(True, index=df.index)
        return df.loc[~blank], spec.name


def _number(cell: Any) -> Any:
    """A cell's value; a whole number shown with a decimal point (format ``0.0``) is a float,
    so that ``investment = 1.0`` stays a float through a workbook."""
    value = cell.value
    if type(value) is int and "." in (cell.number_format or ""):
        return float(value)
    return value


def _node(tree: dict[str, Any], path: list[str]) -> dict[str, Any]:
    for part in path:
        tree = tree.setdefault(part, {})
    return tree


def _defused(exc: BaseException) -> DefusedXmlException | None:
    """The defusedxml refusal behind an error of openpyxl (which wraps it), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _unsafe_archive(data: bytes) -> str | None:
    """Why the ``.xlsx`` archive ``data`` is not opened, or None. openpyxl reads the archive's
    XML parts into memory, so a small file that expands to gigabytes (a zip bomb) would take
    the machine down: the members' total uncompressed size (as the archive declares it;
    Python's zipfile never inflates a member beyond its declared size) and their number are
    checked first, against :data:`MAX_UNCOMPRESSED_BYTES` and :data:`MAX_MEMBERS`. XML entity
    attacks are defused by openpyxl itself, which parses through defusedxml when it is
    installed (a dependency of allocator): checked here, so that no setting turns it off."""
    if not openpyxl.DEFUSEDXML:
        return ("not read: openpyxl is not using defusedxml (not installed, or "
                "OPENPYXL_DEFUSEDXML is not True), and a workbook is not read without "
                "protection against XML entity attacks")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        return None  # not a zip archive: openpyxl says so in its own words
    if len(members) > MAX_MEMBERS:
        return (f"the archive holds {len(members):,} parts, more than the {MAX_MEMBERS:,} a "
                "workbook is allowed (an Excel workbook has a few per sheet): not read")
    size = sum(m.file_size for m in members)
    if size > MAX_UNCOMPRESSED_BYTES:
        return (f"the archive expands to {size:,} bytes, more than the limit of "
                f"{MAX_UNCOMPRESSED_BYTES:,} ({MAX_UNCOMPRESSED_BYTES // 2**20} MiB) for a "
                "workbook: not read (a national instance of 337 regions and 40 industries "
                "expands to about 0.6 MB)")
    return None


def _load_sheets(source: Any) -> tuple[dict[str, list[tuple[Any, ...]]],
                                        list[tuple[str, int, str, str]]]:
    """Every sheet's cell values, row by row from row 1 (empty rows kept, so that row numbers
    are Excel's), and the formulas that have no saved value (sheet, row, column letter,
    formula): those cells hold the formula's text, never a silent blank. Formulas give the
    value Excel saved."""
    book = openpyxl.load_workbook(source, data_only=False)
    formulas = {ws.title: [(c.row, c.column, str(c.value)) for row in ws.iter_rows()
                           for c in row if c.data_type == "f"] for ws in book.worksheets}
    if any(formulas.values()):
        source.seek(0)
        values = openpyxl.load_workbook(source, data_only=True)
    else:
        values = book
    out: dict[str, list[tuple[Any, ...]]] = {}
    unsaved: list[tuple[str, int, str, str]] = []
    for ws in values.worksheets:
        rows = [[_number(c) for c in r] for r in ws.iter_rows(min_row=1, max_row=ws.max_row)]
        if ws.max_row == 1 and ws.max_column == 1 and rows and rows[0] == [None]:
            rows = []
        for r, c, formula in formulas.get(ws.title, []):
            if ws.cell(r, c).value is None:
                unsaved.append((ws.title, r, get_column_letter(c), formula))
                rows[r - 1][c - 1] = formula
        out[ws.title] = [tuple(r) for r in rows]
    return out, unsaved


# ---------------------------------------------------------------------- converting
def text_stays_text(ws: Any) -> None:
    """Every text cell is stored as text, never as a formula: openpyxl makes a formula of any
    string that starts with ``=`` (a region named ``=HYPERLINK(...)`` would become a live
    link, or worse, in the planner's Excel). allocator writes no formulas; such a cell is set
    back to a string, and marked with Excel's quote prefix (the ``'`` a person types to
    enter ``=...`` as text), so that editing the cell in Excel keeps it text."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
                cell.quotePrefix = True


def style_sheet(ws: Any) -> None:
    """Bold header, frozen first row, columns as wide as their text (up to 60)."""
    """Bold header, frozen header row, columns wide enough to read."""
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for j, column in enumerate(ws.iter_cols(values_only=True), start=1):
        width = max((len(cell_text(v)) for v in column[:200]), default=8)
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
