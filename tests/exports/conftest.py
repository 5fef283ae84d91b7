"""The export tests use the report outputs' org (tests/reports/outputs_org.py): six deals
of the admin and of ``rep@example.com`` (private sharing, ``secret_score`` hidden, may
export), and ``opps@example.com`` who may read deals but not export."""

from tests.reports.outputs_org import outputs, outputs_url  # noqa: F401
