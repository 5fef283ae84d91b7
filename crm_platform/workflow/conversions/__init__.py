"""Record conversion: a metadata-defined mapping (the ``conversion`` kind) that turns one
record into new records of other objects — a lead into an account, a contact and an
opportunity — in one transaction through the record service (see :mod:`.kind`,
:mod:`.engine`; ``POST /api/v1/records/<object>/<id>/convert``)."""

from .engine import ConversionResult, NotConvertible, convert
from .kind import KIND, Conversion, ConversionKind, Target, conversions_of

__all__ = [
    "KIND",
    "Conversion",
    "ConversionKind",
    "ConversionResult",
    "NotConvertible",
    "Target",
    "conversions_of",
    "convert",
]
