"""Workbooks carry data, never code: text is written as text, never as a formula; reading
takes saved values, refuses XML entity declarations and archives that expand too far."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

import allocator
from allocator.cli import main
from allocator.core.errors import InputError
from allocator.input import workbook
from allocator.input.convert import folder_to_workbook, workbook_to_folder

NEV = """
id,name,demand,min_scale,unit_capex,fixed_cost,target_hosts
nev,NEV,10,4,1,5,1
"""
LINK = '=HYPERLINK("http://x.example/a","Beijing")'
REGIONS = f"""
id,name,group,latitude,longitude,funding_budget
A,"{LINK.replace('"', '""')}",g1,0,0,1000
B,=1+1,g2,0,1,1000
"""


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_text_that_looks_like_a_formula_is_written_as_text(tiny, tmp_path):
    folder = tiny(industries=NEV, regions=REGIONS)
    out = allocator.write_results(allocator.solve_instance(folder), tmp_path / "out")
    cell = openpyxl.load_workbook(out / "results.xlsx")["geography"]["B2"]
    assert cell.value == LINK and cell.data_type == "s" and cell.quotePrefix
    book = tmp_path / "inst.xlsx"
    folder_to_workbook(folder, book)
    sheet = openpyxl.load_workbook(book)["regions"]
    for ref, text in (("B2", LINK), ("B3", "=1+1")):
        assert sheet[ref].value == text and sheet[ref].data_type == "s", ref
    # and back: the same text, not a formula's result
    workbook_to_folder(book, tmp_path / "back")
    names = allocator.load_instance(tmp_path / "back").tables["regions"]["name"].tolist()
    assert names == [LINK, "=1+1"]
    formulas = [c.coordinate for ws in openpyxl.load_workbook(out / "results.xlsx")
                for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_openpyxl_reads_workbooks_through_defusedxml():
    assert openpyxl.DEFUSEDXML is True


def rewrite(book: Path, member: str, edit) -> Path:
    """A copy of ``book`` with one member's XML text changed by ``edit``."""
    with zipfile.ZipFile(book) as zin:
        items = [(i, zin.read(i.filename)) for i in zin.infolist()]
    out = book.with_name("edited.xlsx")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            if info.filename == member:
                data = edit(data.decode("utf-8")).encode("utf-8")
            zout.writestr(info.filename, data)
    return out


def regions_member(book: Path) -> str:
    wb = openpyxl.load_workbook(book)
    return f"xl/worksheets/sheet{wb.sheetnames.index('regions') + 1}.xml"


@pytest.fixture
def book(tiny, tmp_path) -> Path:
    book = tmp_path / "inst.xlsx"
    folder_to_workbook(tiny(industries=NEV), book)
    return book


def with_doctype(xml: str, doctype: str, name: str) -> str:
    head, sep, body = xml.partition("?>")
    xml = head + sep + doctype + body if sep else doctype + xml
    return xml.replace("<t>Alpha</t>", f"<t>{name}</t>", 1)


LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
          + "".join(f'<!ENTITY {b} "{("&" + a + ";") * 10}">'
                    for a, b in zip("abcdefgh", "bcdefghi", strict=True)) + "]>")


@pytest.mark.parametrize(("doctype", "name"), [
    (LAUGHS, "&i;"),  # a billion a's from a few hundred bytes
    ('<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/hostname">]>', "&x;"),
])
def test_xml_entities_are_refused(book, doctype, name):
    bad = rewrite(book, regions_member(book), lambda x: with_doctype(x, doctype, name))
    done = cli("validate", bad)
    assert done.exit_code == 2, done.output
    assert "edited.xlsx" in done.output and "XML entity" in done.output, done.output


def test_a_formula_gives_the_value_excel_saved(book, tmp_path):
    # what Excel writes for a formula: the formula and its saved value
    cell = '<c r="B2" t="str"><f>"Al"&amp;"pha"</f><v>Alpha</v></c>'
    saved = rewrite(book, regions_member(book), lambda x: re.sub(
        r'<c r="B2"[^>]*>.*?</c>', cell, x, count=1))
    assert openpyxl.load_workbook(saved)["regions"]["B2"].data_type == "f"
    inst = allocator.load_instance(saved)
    assert inst.tables["regions"]["name"].iloc[0] == "Alpha"


def test_an_archive_with_too_many_members_is_refused(book):
    with zipfile.ZipFile(book, "a") as z:
        for k in range(workbook.MAX_MEMBERS + 1):
            z.writestr(f"junk/{k}", b"")
    done = cli("validate", book)
    assert done.exit_code == 2, done.output
    assert f"{workbook.MAX_MEMBERS:,}" in done.output and "inst.xlsx" in done.output


def test_an_archive_that_expands_too_far_is_refused(book, monkeypatch):
    limit = 10_000  # the real limit (MAX_UNCOMPRESSED_BYTES) would need a 256 MiB test file
    with zipfile.ZipFile(book) as z:
        size = sum(i.file_size for i in z.infolist())
    assert size > limit
    monkeypatch.setattr(workbook, "MAX_UNCOMPRESSED_BYTES", limit)
    with pytest.raises(InputError) as err:
        allocator.load_instance(book)
    assert f"{size:,} bytes" in str(err.value) and "inst.xlsx" in str(err.value)
    done = cli("validate", book)
    assert done.exit_code == 2 and "expands to" in done.output
