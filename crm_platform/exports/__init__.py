"""Record exports: ``crm export`` and ``GET /api/v1/records/<object>/export``.

Every export reads as a user through the records read path (sharing and field-level
security in SQL), needs the ``export_data`` system permission and streams: memory stays
flat however many records there are. Others may import what is named here.
"""

from .records import (
    EXPORT_FORMATS,
    EXPORT_PERMISSION,
    RecordExport,
    export_chunks,
    record_export,
    write_record_export,
)

__all__ = [
    "EXPORT_FORMATS",
    "EXPORT_PERMISSION",
    "RecordExport",
    "export_chunks",
    "record_export",
    "write_record_export",
]
