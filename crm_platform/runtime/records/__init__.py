"""Records: the one write path, the reads that apply the same rules, and their helpers.

Others may import the service and session (and the request write a session can take
over), the list request and page, the record events (``RecordEvents`` is reached as
``org.records.events``) and ``RecordsRefused``, the error of a batch written asking for
every refusal, the ``notices`` collector of writes that went through with a caveat, and
``bulk_load``, the mark of a transaction that loads data (an import).
"""

from . import notices
from .events import EventContext, EventHandler, RecordChange, RecordEvent, RecordEvents, bulk_load
from .query import ListRequest, Page
from .reads import relation_names
from .refusals import RecordsRefused
from .service import RecordService, RecordSession, RequestWrite
from .statistics import analyze_object

__all__ = [
    "EventContext",
    "EventHandler",
    "ListRequest",
    "Page",
    "RecordChange",
    "RecordEvent",
    "RecordEvents",
    "RecordService",
    "RecordSession",
    "RecordsRefused",
    "RequestWrite",
    "analyze_object",
    "bulk_load",
    "notices",
    "relation_names",
]
