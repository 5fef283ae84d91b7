"""Messy files as they come from spreadsheets and old systems, read row by row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crm_platform.core import ValidationFailed
from crm_platform.imports import Source


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _rows(source: Source) -> list[tuple]:
    return [row.values for row in source.rows()]


def test_a_utf8_file_with_a_bom_reads_without_the_bom(tmp_path):
    source = Source(_write(tmp_path / "a.csv", "\ufeffName,City\nAcme,Paris\n"))
    assert source.encoding == "utf-8-sig"
    assert source.headers == ("Name", "City")
    assert _rows(source) == [("Acme", "Paris")]


def test_a_gbk_file_is_detected_and_read(tmp_path):
    text = "客户名称,城市,备注\n" + "".join(
        f"北京科技有限公司{i},北京市海淀区,这是一家很好的公司，我们合作了很多年\n"
        for i in range(30)
    )
    source = Source(_write(tmp_path / "gbk.csv", text, "gbk"))
    assert source.encoding == "gb18030"
    assert source.headers == ("客户名称", "城市", "备注")
    assert _rows(source)[0][0] == "北京科技有限公司0"


def test_a_large_gbk_file_whose_sample_ends_inside_a_character_is_still_gbk(tmp_path):
    """The detector reads the first 256 kB: cut inside a two-byte character, that sample
    is no valid GBK, and it once took the file for Cyrillic (ISO 8859-5)."""
    from crm_platform.imports.reader import SAMPLE_BYTES

    def gbk_file(pad: int) -> bytes:
        lines = ["姓,名,电子邮件,公司", f"张,伟,{'x' * pad}zhang@example.com,北京科技有限公司"]
        lines += ["王,芳,wang@example.com,上海贸易有限公司"] * (SAMPLE_BYTES // 40)
        return "\n".join(lines).encode("gbk")

    def cut_inside_a_character(data: bytes) -> bool:
        try:
            data[:SAMPLE_BYTES].decode("gbk")
        except UnicodeDecodeError:
            return True
        return False

    data = next(d for d in map(gbk_file, range(40)) if cut_inside_a_character(d))
    source = Source(_write_bytes(tmp_path / "big.csv", data))
    assert source.encoding == "gb18030"
    assert source.headers == ("姓", "名", "电子邮件", "公司")


SURNAMES = {"gbk": "张王李赵钟刘陈杨黄吴", "big5": "張王李趙鍾劉陳楊黃吳"}
GIVEN = {"gbk": "伟芳娜敏静丽强磊军洋", "big5": "偉芳娜敏靜麗強磊軍洋"}


def _mostly_english(encoding: str) -> list[tuple[str, str, str]]:
    """Contacts as many files come: English names and emails, a Chinese name in one row
    of ten."""
    surnames, given = SURNAMES[encoding], GIVEN[encoding]
    people = []
    for i in range(3000):
        if i % 10 == 0:
            name = (surnames[i // 10 % 10], given[i // 100 % 10] + given[i // 10 % 10])
            people.append((*name, f"c{i}@example.cn"))
        else:
            people.append(("Smith", "Olivia", f"olivia{i}@example.com"))
    return people


@pytest.mark.parametrize(("encoding", "read_as"), [("gbk", "gb18030"), ("big5", "big5")])
def test_a_mostly_english_file_with_a_few_chinese_names_is_read_in_its_encoding(
    tmp_path, encoding, read_as
):
    """The delimiters, emails and English names once outweighed the few Chinese bytes:
    such a GBK file was read as Mac Latin 2 and 钟洋 came in as '÷”,—ů'."""
    people = _mostly_english(encoding)
    text = "last_name,first_name,email\n" + "".join(f"{a},{b},{c}\n" for a, b, c in people)
    source = Source(_write(tmp_path / "contacts.csv", text, encoding))
    assert source.encoding == read_as
    rows = _rows(source)
    assert rows[:2] == people[:2]
    assert rows[120] == people[120]


def test_a_western_file_with_accented_names_is_read_in_its_code_page(tmp_path):
    names = ["José", "Müller", "François", "Zoë", "Fußmann"]
    text = "name,city\n" + "".join(f"{names[i % 5]},Paris {i}\n" for i in range(2000))
    source = Source(_write(tmp_path / "western.csv", text, "cp1252"))
    assert [row[0] for row in _rows(source)[:5]] == names


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_the_encoding_can_be_given(tmp_path):
    source = Source(_write(tmp_path / "l1.csv", "Name\nCafé\n", "latin-1"), encoding="latin-1")
    assert _rows(source) == [("Café",)]


def test_quoted_newlines_and_delimiters_stay_in_their_cell(tmp_path):
    text = 'Name,Notes\nAcme,"line one\nline two, with a comma"\nGlobex,"say ""hi"""\n'
    source = Source(_write(tmp_path / "q.csv", text))
    assert _rows(source) == [("Acme", "line one\nline two, with a comma"), ("Globex", 'say "hi"')]


def test_semicolons_and_tabs_are_detected(tmp_path):
    semi = Source(_write(tmp_path / "s.csv", "Name;Revenue\nAcme;1.234,50\nGlobex;7\n"))
    assert semi.delimiter == ";" and _rows(semi)[0] == ("Acme", "1.234,50")
    tab = Source(_write(tmp_path / "t.csv", "Name\tCity\nAcme\tParis\nGlobex\tRome\n"))
    assert tab.delimiter == "\t" and _rows(tab)[1] == ("Globex", "Rome")


def test_blank_lines_are_skipped_but_counted(tmp_path):
    source = Source(_write(tmp_path / "b.csv", "Name,City\n\nAcme,Paris\n,\n\nGlobex,Rome\n"))
    rows = list(source.rows())
    assert [r.values for r in rows] == [("Acme", "Paris"), ("Globex", "Rome")]
    assert [r.number for r in rows] == [2, 5]
    assert [r.values for r in source.rows(start=2)] == [("Globex", "Rome")]


def test_ragged_rows_come_as_they_are(tmp_path):
    source = Source(_write(tmp_path / "r.csv", "Name,City,Phone\nAcme\nGlobex,Rome,1,extra\n"))
    assert _rows(source) == [("Acme",), ("Globex", "Rome", "1", "extra")]


def test_duplicate_and_blank_headers_are_made_unique(tmp_path):
    source = Source(_write(tmp_path / "d.csv", "Email,Name,Email,\na@x.com,A,b@x.com,z\n"))
    assert source.headers == ("Email", "Name", "Email (2)", "Column 4")


def test_a_file_without_a_header_row_is_refused(tmp_path):
    with pytest.raises(ValidationFailed, match="name the columns"):
        Source(_write(tmp_path / "e.csv", "\n\n"))


def test_xlsx_is_read_from_its_first_sheet_with_typed_cells(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Accounts")
    sheet.append(["Name", "Founded", "Revenue", "Employees"])
    sheet.append(["Acme", dt.datetime(2024, 3, 5), 1234.5, 12])
    sheet.append([None, None, None, None])
    sheet.append(["Globex", "2023/1/2", None, 3])
    workbook.save(tmp_path / "a.xlsx")
    source = Source(tmp_path / "a.xlsx")
    assert source.kind == "xlsx" and source.headers == ("Name", "Founded", "Revenue", "Employees")
    rows = _rows(source)
    assert rows[0][:2] == ("Acme", dt.date(2024, 3, 5))
    assert str(rows[0][2]) == "1234.5" and rows[0][3] == 12
    assert rows[1] == ("Globex", "2023/1/2", None, 3)


# the parts of a workbook as Excel writes it: texts in a shared-strings table, cells
# naming them by position (openpyxl writes texts into the cells themselves)
EXCEL_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="客户" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
    "xl/sharedStrings.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="7" uniqueCount="6">'
        "<si><t>客户名称</t></si><si><t>员工人数</t></si>"
        '<si><r><rPr><b/></rPr><t>Acme </t></r><r><t xml:space="preserve">Labs</t></r></si>'
        "<si><t>北京科技有限公司</t></si><si><t>a_x005F_x000D_b</t></si><si><t></t></si>"
        "</sst>"
    ),
    "xl/worksheets/sheet1.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>12</v></c></row>'
        '<row r="3"><c r="A3" t="s"><v>3</v></c><c r="B3"><v>1200</v></c></row>'
        '<row r="4"><c r="A4" t="s"><v>4</v></c><c r="B4" t="s"><v>5</v></c></row>'
        '<row r="5"><c r="A5" t="s"><v>2</v></c><c r="B5"><v>7</v></c></row>'
        "</sheetData></worksheet>"
    ),
}


def test_an_excel_workbook_reads_its_texts_from_the_shared_strings_table(tmp_path):
    """Excel's texts sit in one table the cells name by position: read as openpyxl reads
    them (runs of rich text joined, its escape removed), kept on disk, not in a list."""
    import zipfile

    from crm_platform.imports.xlsx import SpooledStrings

    path = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in EXCEL_PARTS.items():
            archive.writestr(name, text)
    source = Source(path)
    assert source.kind == "xlsx" and source.headers == ("客户名称", "员工人数")
    assert _rows(source) == [
        ("Acme Labs", 12),
        ("北京科技有限公司", 1200),
        ("a_x000D_b", ""),
        ("Acme Labs", 7),  # a text named twice: one entry of the table
    ]
    with zipfile.ZipFile(path) as archive, archive.open("xl/sharedStrings.xml") as table:
        spooled = SpooledStrings(table)
    try:
        assert len(spooled) == 6 and spooled[-1] == "" and spooled[1:3] == ["员工人数", "Acme Labs"]
        with pytest.raises(IndexError):
            spooled[6]
    finally:
        spooled.close()
