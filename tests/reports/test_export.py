"""Exports: a CSV that Excel opens in Chinese, an XLSX whose cells keep their types,
and memory that stays flat however many rows the report has."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import UTC, date, datetime, time
from decimal import Decimal

import openpyxl
import pytest

from crm_platform.core import ValidationFailed
from crm_platform.reports import ReportColumn, ReportStream
from crm_platform.reports.export import (
    EXPORT_FORMATS,
    ExportOptions,
    csv_chunks,
    export_filename,
    write_export,
    write_xlsx,
    xlsx_file,
)

COLUMNS = (
    ReportColumn("name", "商机名称", "text"),
    ReportColumn("amount", "金额", "currency", 2),
    ReportColumn("probability", "Probability", "percent", 1),
    ReportColumn("close_date", "Close date", "date"),
    ReportColumn("created_at", "Created", "datetime"),
    ReportColumn("is_won", "Won", "boolean"),
    ReportColumn("quantity", "Quantity", "integer", 0),
    ReportColumn("tags", "Tags", "multi_picklist"),
)
ROWS = [
    (
        "北京大单",
        Decimal("1234567.89"),
        Decimal("12.5"),
        date(2026, 3, 5),
        datetime(2026, 3, 5, 23, 30, tzinfo=UTC),  # 07:30 the next day in Shanghai
        True,
        7,
        ["a", "b"],
    ),
    ('=HYPERLINK("x")', None, None, None, None, False, None, None),
]
SHANGHAI = ExportOptions(time_zone="Asia/Shanghai", currency="CNY")


def stream(rows, columns=COLUMNS) -> ReportStream:
    return ReportStream("pipeline", "销售管道 [2026]", columns, rows)


def test_the_csv_starts_with_a_bom_and_keeps_chinese_exact_numbers_and_local_times():
    body = b"".join(csv_chunks(stream(ROWS), SHANGHAI))
    assert body.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[0] == [
        "商机名称",
        "金额",
        "Probability",
        "Close date",
        "Created",
        "Won",
        "Quantity",
        "Tags",
    ]
    assert lines[1] == [
        "北京大单",
        "1234567.89",
        "12.5",
        "2026-03-05",
        "2026-03-06 07:30:00",
        "true",
        "7",
        "a;b",
    ]
    # text a spreadsheet would run as a formula stays text; blanks are empty
    assert lines[2] == ['\'=HYPERLINK("x")', "", "", "", "", "false", "", ""]


def test_the_csv_is_one_chunk_per_batch_read_only_as_it_is_sent():
    taken = []

    def rows():
        for i in range(25):
            taken.append(i)
            yield (f"deal {i}",)

    chunks = csv_chunks(stream(rows(), COLUMNS[:1]), batch_rows=10)
    header = next(chunks)
    assert header == "\ufeff商机名称\r\n".encode()
    assert taken == []  # nothing read before the first batch is asked for
    first = next(chunks)
    assert first.decode().splitlines() == [f"deal {i}" for i in range(10)]
    assert taken == list(range(10))
    rest = list(chunks)
    assert [len(c.decode().splitlines()) for c in rest] == [10, 5]


def test_the_xlsx_keeps_numbers_currencies_percents_dates_and_booleans_typed():
    file = io.BytesIO()
    assert write_xlsx(stream(ROWS), file, SHANGHAI) == 2
    book = openpyxl.load_workbook(io.BytesIO(file.getvalue()))
    sheet = book.active
    assert sheet.title == "销售管道  2026"
    header, first, second = list(sheet.iter_rows())
    assert [c.value for c in header] == [c.label for c in COLUMNS]
    assert all(c.font.b for c in header)
    name, amount, probability, close, created, won, quantity, tags = first
    assert name.value == "北京大单"
    assert amount.data_type == "n" and amount.value == pytest.approx(1234567.89)
    assert amount.number_format == '"CNY "#,##0.00'
    assert probability.value == pytest.approx(0.125) and probability.number_format == "0.0%"
    assert close.is_date and close.value == datetime(2026, 3, 5)
    assert close.number_format == "yyyy-mm-dd"
    assert created.is_date and created.value == datetime(2026, 3, 6, 7, 30)
    assert won.data_type == "b" and won.value is True
    assert quantity.value == 7 and quantity.number_format == "#,##0"
    assert tags.value == "a;b"
    # a formula-looking text is a text cell, never a formula
    assert second[0].data_type == "s" and second[0].value == '=HYPERLINK("x")'
    assert [c.value for c in second[1:]] == [None, None, None, None, False, None, None]


def test_a_time_and_a_number_without_currency_or_scale():
    columns = (ReportColumn("at", "At", "time"), ReportColumn("n", "N", "number", 3))
    file = io.BytesIO()
    write_xlsx(stream([(time(9, 15), 2.5)], columns), file)
    sheet = openpyxl.load_workbook(io.BytesIO(file.getvalue())).active
    at, n = next(sheet.iter_rows(min_row=2))
    assert at.value == time(9, 15) and at.number_format == "hh:mm:ss"
    assert n.value == 2.5 and n.number_format == "#,##0.000"


def test_the_xlsx_goes_out_of_a_temporary_file_that_is_gone_once_closed(tmp_path):
    file = xlsx_file(stream(ROWS), SHANGHAI)
    data = file.read()
    assert data[:2] == b"PK"
    file.close()
    assert file.closed
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.active["A2"].value == "北京大单"


def test_the_cli_writes_either_format_to_a_file(tmp_path):
    for name in EXPORT_FORMATS:
        target = tmp_path / f"out.{name}"
        with target.open("wb") as file:
            write_export(stream(ROWS), name, file, SHANGHAI)
        assert target.stat().st_size > 0
    assert (tmp_path / "out.csv").read_text("utf-8-sig").startswith("商机名称,")
    assert openpyxl.load_workbook(tmp_path / "out.xlsx").active["B2"].value == pytest.approx(
        1234567.89
    )
    with pytest.raises(ValidationFailed, match="format"):
        write_export(stream(ROWS), "pdf", io.BytesIO())


def test_the_file_name_says_the_report_and_the_day():
    assert export_filename("pipeline_by_stage", EXPORT_FORMATS["xlsx"], date(2026, 3, 5)) == (
        "pipeline_by_stage-2026-03-05.xlsx"
    )
    assert export_filename("../etc", EXPORT_FORMATS["csv"], date(2026, 3, 5)) == (
        "etc-2026-03-05.csv"
    )


# --- memory stays flat ------------------------------------------------------------------

WIDE = "x" * 400


def generated(n: int):
    """``n`` rows made as they are read, each some 600 bytes once made."""
    for i in range(n):
        yield (
            f"{WIDE} {i}",
            Decimal(i) / 100,
            Decimal(i % 100),
            date(2026, 1, 1),
            datetime(2026, 1, 1, 12, tzinfo=UTC),
            i % 2 == 0,
            i,
            None,
        )


def peak_of(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


BOUND = 8 * 1024 * 1024


def test_keeping_the_rows_would_pass_the_bound():
    # the control: the bound below is one that holding the rows breaks
    assert peak_of(lambda: list(generated(20_000))) > BOUND


def test_a_csv_export_of_200000_rows_stays_in_flat_memory():
    sizes = []

    def work():
        for chunk in csv_chunks(stream(generated(200_000))):
            sizes.append(len(chunk))

    assert peak_of(work) < BOUND
    assert len(sizes) == 201 and sum(sizes) > 200_000 * 400


def test_an_xlsx_export_stays_in_flat_memory(tmp_path):
    # openpyxl writes some 100 µs a row, slower under tracemalloc: 20,000 rows of 600
    # bytes (12 MB kept, see the control) prove the rows are not held
    path = tmp_path / "big.xlsx"

    def work():
        with path.open("wb") as file:
            assert write_xlsx(stream(generated(20_000)), file) == 20_000

    assert peak_of(work) < BOUND
    sheet = openpyxl.load_workbook(path, read_only=True).active
    quantities = [row[0] for row in sheet.iter_rows(min_col=7, max_col=7, values_only=True)]
    assert len(quantities) == 20_001 and quantities[-1] == 19_999
