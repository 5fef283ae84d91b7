"""A large file is read and converted by a second process while the first one writes:
the same rows land and the same rows are rejected, with the same reasons and row numbers,
as when one process does everything; a file that turns out broken half-way fails the
same way too."""

from __future__ import annotations

import pickle
import time

import pytest

from crm_platform.core import ValidationFailed
from crm_platform.imports import feed
from crm_platform.imports.converting import RowConverter
from crm_platform.imports.mapping import ImportMapping, plan_columns
from crm_platform.imports.reader import Source, SourceRow

from .helpers import read_errors, records, spy_on_workers, write_csv

HEADER = ["Account name", "Account number", "Industry", "Annual revenue", "Founded", "Active"]
GOOD = ["Acme", "A-1", "technology", "$1,234.50", "2024/3/5", "yes"]


@pytest.fixture(params=["in one process", "in a second process"])
def converting(request, monkeypatch):
    """Where the file is read and converted; a spy says whether a second process was."""
    used = []
    if request.param == "in a second process":
        monkeypatch.setattr(feed, "MIN_ROWS", 0)
        used = spy_on_workers(monkeypatch)
    else:
        monkeypatch.setattr(feed, "MIN_ROWS", 10**9)
    return request.param, used


def test_a_messy_file_imports_alike_whichever_process_converts_it(crm, org, tmp_path, converting):
    where, used = converting
    rows = []
    for i in range(50):  # each group: two good rows, four bad in four ways
        rows += [
            [f"Acme {i}", f"A-{i}", "technology", "$1,234.50", "2024/3/5", "yes"],
            ["", f"B-{i}", "Retail", "5", "2024/3/5", "yes"],
            [f"Globex {i}", f"C-{i}", "Retail", "5", "2024/13/5", "yes"],
            [f"Initech {i}", f"D-{i}", "Mining", "5", "2024/3/5", "maybe"],
            [f"Hooli {i}", f"E-{i}", "Retail", "5", "2024/3/5", "yes", "surplus"],
            [f"Umbrella {i}", f"F-{i}"],
        ]
    path = write_csv(tmp_path / "accounts.csv", [HEADER, *rows])
    result = crm("import", path, "--object", "account", "--batch-size", "40")
    assert "300 rows read: 100 created, 0 updated, 200 rejected." in result.output
    assert bool(used) == (where == "in a second process")
    names = sorted(name for (name,) in records(org, "account", "name"))
    assert names == sorted([f"Acme {i}" for i in range(50)] + [f"Umbrella {i}" for i in range(50)])
    reasons = [e["error"] for e in read_errors(tmp_path / "accounts.errors.csv")]
    assert len(reasons) == 200
    assert reasons[:4] == [
        "row 3: Account name: required",
        "row 4: Founded: not a date: '2024/13/5' (expected %Y/%m/%d)",
        reasons[2],
        "row 6: 7 values but 6 columns (extra: 'surplus')",
    ]
    assert reasons[2].startswith("row 5: Active: not yes or no: 'maybe'")
    assert reasons[-1] == "row 300: 7 values but 6 columns (extra: 'surplus')"


def test_a_file_broken_after_its_first_part_fails_alike(crm, org, tmp_path, converting):
    path = tmp_path / "accounts.csv"
    good = "".join(f"Account {i:06},A-{i},Retail\n" for i in range(20_000))
    path.write_bytes(b"Account name,Account number,Industry\n" + good.encode() + b"Bad \xff,X,Y\n")
    assert path.stat().st_size > 256 * 1024  # past the sample the encoding is told from
    result = crm("import", path, "--object", "account", "--batch-size", "1000", ok=False)
    assert "not utf-8 text (invalid start byte): give --encoding" in result.output
    assert records(org, "account") == []  # found while counting the rows, before any


def test_a_reading_error_reaches_the_writer_as_it_was_raised(
    org, load_metadata, tmp_path, converting
):
    load_metadata("imports")
    path = tmp_path / "accounts.csv"
    lines = "".join(f"Account {i:06}\n" for i in range(30_000))
    path.write_text("Account name\n" + lines, encoding="utf-8")
    source = Source(path)  # told utf-8 from its first 256 kB
    path.write_bytes(b"Account name\n" + lines.encode() + b"Bad \xff\n")  # then broken
    mapping = ImportMapping.from_json({"object": "account", "columns": {"Account name": "name"}})
    with org.reading() as (_conn, model):
        plans = plan_columns(mapping, model.objects["account"], source.headers, model)
    landed = []
    converter = RowConverter(source.headers, plans)
    batches = feed.converted_batches(source, converter, size=1000)
    with pytest.raises(ValidationFailed) as raised, batches as got:
        for batch in got:
            landed += [row.data["name"] for row in batch]
    assert raised.value.errors == {"file": ["not utf-8 text (invalid start byte): give --encoding"]}
    # the batches read before it, in order (the one being read when it broke is lost)
    assert landed == [f"Account {i:06}" for i in range(len(landed))]
    assert len(landed) >= 28_000


def test_a_row_converter_travels_to_another_process_whole(org, load_metadata):
    load_metadata("imports")
    mapping = ImportMapping.from_json(
        {
            "object": "account",
            "columns": {
                "Account name": {"field": "name"},
                "Annual revenue": {"field": "annual_revenue"},
                "Founded": {"field": "founded", "date_format": "%d.%m.%Y"},
                "Active": {"field": "active"},
            },
        }
    )
    headers = ("Account name", "Annual revenue", "Founded", "Active")
    with org.reading() as (_conn, model):
        plans = plan_columns(mapping, model.objects["account"], headers, model)
    converter = RowConverter(headers, plans)
    copy = pickle.loads(pickle.dumps(converter))
    row = SourceRow(7, (" Acme ", "¥1,234.50", "05.03.2024", "是"))
    assert copy.convert(row) == converter.convert(row)
    assert copy.convert(row).data["name"] == "Acme"
    assert copy.convert(SourceRow(8, ("A", "x", "", ""))).problem == (
        "Annual revenue: not a number: 'x'"
    )


def test_an_error_keeps_its_field_messages_across_processes():
    error = ValidationFailed({"file": "not utf-8 text"}, "the file is broken")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ValidationFailed
    assert copy.errors == {"file": ["not utf-8 text"]}
    assert copy.to_problem() == error.to_problem()
    assert str(copy) == "the file is broken"


def _account_plans(org, load_metadata, source):
    load_metadata("imports")
    mapping = ImportMapping.from_json({"object": "account", "columns": {"Account name": "name"}})
    with org.reading() as (_conn, model):
        return plan_columns(mapping, model.objects["account"], source.headers, model)


def test_an_xlsx_file_resumed_mid_way_goes_on_from_its_row(org, load_metadata, tmp_path):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["Account name"])
    for i in range(1, 301):
        sheet.append([f"Account {i:03}"] if i != 150 else [None])  # a blank row counts
    book.save(tmp_path / "accounts.xlsx")
    source = Source(tmp_path / "accounts.xlsx")
    converter = RowConverter(source.headers, _account_plans(org, load_metadata, source))
    with feed.converted_batches(source, converter, size=40, start=120) as got:
        rows = [row for batch in got for row in batch]
    assert [r.row.number for r in rows] == [n for n in range(121, 301) if n != 150]
    assert rows[0].data == {"name": "Account 121"} and rows[-1].data == {"name": "Account 300"}


def test_a_worker_killed_amid_a_batch_is_a_clear_error(org, load_metadata, tmp_path, monkeypatch):
    import signal

    path = tmp_path / "accounts.csv"
    text = "x" * 2000  # batches of about 100 kB: more than a pipe holds
    write_csv(path, [["Account name", "Description"]] + [[f"A {i}", text] for i in range(9000)])
    source = Source(path)
    converter = RowConverter(source.headers, _account_plans(org, load_metadata, source))
    workers = spy_on_workers(monkeypatch)
    batches = feed.converted_batches(source, converter, size=50)
    with pytest.raises(RuntimeError) as raised, batches as got:
        for number, _batch in enumerate(got):
            if number == 4:  # the worker's first batch is in: it is killed
                workers[0].send_signal(signal.SIGKILL)
    assert "the process converting the file ended unexpectedly (exit code -9)" in str(raised.value)
    assert workers[0].poll() == -9


def test_a_signal_to_the_writers_process_group_leaves_the_worker_to_the_writer(
    org, load_metadata, tmp_path, monkeypatch
):
    """Ctrl-C or a service manager's SIGTERM reaches the worker too: the writer decides
    (it stops after its batch, or dies and the worker's pipe breaks)."""
    import signal

    text = "x" * 2000  # batches larger than a pipe holds: the worker waits on the writer
    rows = [[f"A {i}", text] for i in range(3000)]
    path = write_csv(tmp_path / "a.csv", [["Account name", "Description"], *rows])
    source = Source(path)
    converter = RowConverter(source.headers, _account_plans(org, load_metadata, source))
    workers = spy_on_workers(monkeypatch)
    names = []
    with feed.converted_batches(source, converter, size=100) as got:
        for number, batch in enumerate(got):
            if number == 4:
                assert workers[0].poll() is None
                for signalled in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    workers[0].send_signal(signalled)
                time.sleep(0.2)
                assert workers[0].poll() is None  # it goes on
            names += [row.data["name"] for row in batch]
    assert names == [f"A {i}" for i in range(3000)]
