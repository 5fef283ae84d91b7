"""Records: the one write path, the reads that apply the same rules, and their helpers."""

from .query import ListRequest, Page
from .service import RecordChange, RecordHooks, RecordService, RecordSession

__all__ = ["ListRequest", "Page", "RecordChange", "RecordHooks", "RecordService", "RecordSession"]
