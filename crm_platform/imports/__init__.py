"""Imports: CSV and XLSX files streamed into an object through the record service.

``reader`` streams rows (encodings, dialects, XLSX), ``transforms`` turns cells into
values, ``mapping`` and ``inference`` say which column goes to which field, ``lookups``
finds the records lookup columns name, ``writer`` writes a batch through the record
service, ``runner`` runs an import (dry run, partial, all or none) and ``jobs`` keeps its
progress so it can be polled, cancelled and resumed.
"""

from .inference import Inferred, infer_mapping
from .jobs import ImportOptions, Job, get_job, later_job_writing, list_jobs, request_cancel
from .mapping import ImportMapping, dump_mapping, load_mapping
from .reader import Source, sheet_row
from .runner import Importer, ImportState, error_file_for, infer
from .tables import import_jobs, import_metadata

__all__ = [
    "ImportMapping",
    "ImportOptions",
    "ImportState",
    "Importer",
    "Inferred",
    "Job",
    "Source",
    "dump_mapping",
    "error_file_for",
    "get_job",
    "import_jobs",
    "import_metadata",
    "infer",
    "infer_mapping",
    "later_job_writing",
    "list_jobs",
    "load_mapping",
    "request_cancel",
    "sheet_row",
]
