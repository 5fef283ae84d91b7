"""The catalog: every field type of the platform, one entry each (DESIGN §3, ADR 0008).

Adding a type is adding its entry here (a new family class only when no
existing family fits) plus its tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.core.inputs import MAX_STRING_LENGTH

from .base import FieldType
from .choices import PICKLIST_OPTIONS, MultiPicklistType, PicklistType
from .compound import CompoundType, JsonType, Part
from .computed import AutoNumberType, FormulaType, RollupType
from .numbers import BooleanType, DecimalType, IntegerType
from .relations import RelationType
from .temporal import DateTimeType, DateType, TimeType
from .text import (
    EmailType,
    EncryptedTextType,
    PhoneType,
    RichTextType,
    TextType,
    UrlType,
    max_length_option,
)


def _options(properties: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {**extra, "properties": dict(properties)}


SHORT_TEXT = _options(max_length_option(255))
LONG_TEXT = _options(max_length_option(MAX_STRING_LENGTH))  # the input gate lets no more in
INTEGER_OPTIONS = _options({"min": {"type": "integer"}, "max": {"type": "integer"}})
DECIMAL_OPTIONS = _options(
    {
        "precision": {"type": "integer", "minimum": 1, "maximum": 18},
        "scale": {"type": "integer", "minimum": 0, "maximum": 10},
        "min": {"type": "number"},
        "max": {"type": "number"},
    }
)
RELATION_NAME = {"relationship_name": {"type": "string"}}

TEXT = TextType(
    "text", defaults={"max_length": 255}, options=SHORT_TEXT, can_be_unique=True,
    searched=True, can_be_name=True, text_kind="free",
)  # fmt: skip
LONG = TextType(
    "long_text", widget="textarea", defaults={"max_length": 32768}, options=LONG_TEXT,
    searched=True, text_kind="free",
)  # fmt: skip
RICH = RichTextType(
    "rich_text", widget="richtext", defaults={"max_length": 131072}, options=LONG_TEXT,
    text_kind="free",
)  # fmt: skip
EMAIL = EmailType(
    "email", widget="email", defaults={"max_length": 255}, options=SHORT_TEXT,
    can_be_unique=True, unique_ignores_case=True, searched=True, can_be_name=True,
    text_kind="formatted",
)  # fmt: skip
PHONE = PhoneType(
    "phone", widget="phone", defaults={"max_length": 40}, options=SHORT_TEXT,
    can_be_unique=True, searched=True, can_be_name=True, text_kind="formatted",
)  # fmt: skip
URL = UrlType(
    "url", widget="url", defaults={"max_length": 255}, options=SHORT_TEXT,
    can_be_unique=True, searched=True, text_kind="formatted",
)  # fmt: skip
INTEGER = IntegerType("integer", options=INTEGER_OPTIONS, can_be_unique=True)
DECIMAL = DecimalType(
    "decimal", defaults={"precision": 18, "scale": 2}, options=DECIMAL_OPTIONS, can_be_unique=True
)
CURRENCY = DecimalType(
    "currency", widget="currency", defaults={"precision": 18, "scale": 2}, options=DECIMAL_OPTIONS
)
PERCENT = DecimalType(
    "percent", widget="percent", defaults={"precision": 18, "scale": 2}, options=DECIMAL_OPTIONS
)
BOOLEAN = BooleanType("boolean")
DATE = DateType("date", can_be_unique=True)
DATETIME = DateTimeType("datetime")
TIME = TimeType("time")
DURATION = IntegerType(
    "duration", widget="duration", options=INTEGER_OPTIONS, minimum=0,
    description="A duration in seconds.",
)  # fmt: skip
PICKLIST = PicklistType("picklist", options=PICKLIST_OPTIONS, text_kind="choice")
MULTI_PICKLIST = MultiPicklistType("multi_picklist", options=PICKLIST_OPTIONS)
LOOKUP = RelationType(
    "lookup",
    defaults={"on_delete": "set_null"},
    options=_options(
        {
            "target": {"type": "string"},
            "targets": {
                "type": "array",
                "minItems": 2,
                "maxItems": 20,
                "uniqueItems": True,
                "items": {"type": "string"},
            },
            "on_delete": {"enum": ["restrict", "set_null", "cascade"]},
            "hierarchy": {"type": "boolean"},
            "active_only": {"type": "boolean"},
            **RELATION_NAME,
        },
        oneOf=[{"required": ["target"]}, {"required": ["targets"]}],
    ),
)
MASTER_DETAIL = RelationType(
    "master_detail",
    options=_options(
        {"target": {"type": "string"}, **RELATION_NAME, "reparentable": {"type": "boolean"}},
        required=["target"],
    ),
)
_RETURNS = (TEXT, INTEGER, DECIMAL, CURRENCY, PERCENT, BOOLEAN, DATE, DATETIME, TIME)
FORMULA = FormulaType(
    "formula",
    returns={t.name: t for t in _RETURNS},
    options=_options(
        {
            "expression": {"type": "string", "minLength": 1, "maxLength": 4000},
            "return_type": {"enum": [t.name for t in _RETURNS]},
            "scale": {"type": "integer", "minimum": 0, "maximum": 10},
        },
        required=["expression", "return_type"],
    ),
)
ROLLUP = RollupType(
    "rollup_summary",
    options=_options(
        {
            "relation": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"},
            "function": {"enum": ["count", "sum", "min", "max"]},
            "field": {"type": "string"},
            "filter": {"type": "string", "maxLength": 4000},
            # all: every child counts (as Salesforce's roll-ups do); viewer: computed at
            # read time from the children the reader may see (docs/adr: roll-up visibility)
            "visibility": {"enum": ["all", "viewer"]},
        },
        required=["relation", "function"],
    ),
)
AUTO_NUMBER = AutoNumberType(
    "auto_number",
    defaults={"start": 1},
    options=_options(
        {
            "pattern": {"type": "string", "pattern": r"^[^{}]*\{0+\}[^{}]*$", "maxLength": 60},
            "start": {"type": "integer", "minimum": 0},
        },
        required=["pattern"],
    ),
)
EXTERNAL_ID = TextType(
    "external_id", defaults={"max_length": 255}, options=SHORT_TEXT, always_unique=True,
    searched=True, can_be_name=True,
)  # fmt: skip
ENCRYPTED_TEXT = EncryptedTextType(
    "encrypted_text",
    widget="secret",
    defaults={"max_length": 255, "mask": "all"},
    options=_options({**SHORT_TEXT["properties"], "mask": {"enum": ["all", "last4"]}}),
    can_have_default=False,
)
JSON = JsonType("json")
FILE = TextType(
    "file",
    widget="file",
    options=_options(
        {
            "max_bytes": {"type": "integer", "minimum": 1},
            "accept": {"type": "array", "items": {"type": "string"}},
        }
    ),
    can_have_default=False,
)
ADDRESS = CompoundType(
    "address",
    widget="address",
    searched=True,
    separator=", ",
    parts={
        "street": Part(255),
        "city": Part(120),
        "state": Part(120),
        "postal_code": Part(20),
        "country": Part(120),
    },
)
GEOLOCATION = CompoundType(
    "geolocation",
    widget="geolocation",
    defaults={"scale": 7},
    options=_options({"scale": {"type": "integer", "minimum": 0, "maximum": 7}}),
    fixed_options=("scale", "the scale of a geolocation cannot change"),
    separator=", ",
    parts={"latitude": Part(minimum=-90, maximum=90), "longitude": Part(minimum=-180, maximum=180)},
)
PERSON_NAME = CompoundType(
    "person_name",
    widget="person_name",
    searched=True,
    can_be_name=True,
    parts={sub: Part(120) for sub in ("salutation", "first", "middle", "last")},
)

ENTRIES: tuple[FieldType, ...] = (
    TEXT, LONG, RICH, EMAIL, PHONE, URL, INTEGER, DECIMAL, CURRENCY, PERCENT, BOOLEAN, DATE,
    DATETIME, TIME, DURATION, PICKLIST, MULTI_PICKLIST, LOOKUP, MASTER_DETAIL, FORMULA, ROLLUP,
    AUTO_NUMBER, EXTERNAL_ID, ENCRYPTED_TEXT, JSON, FILE, ADDRESS, GEOLOCATION, PERSON_NAME,
)  # fmt: skip
