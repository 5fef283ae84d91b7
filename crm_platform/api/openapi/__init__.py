"""The OpenAPI 3.1 document of /api/v1, generated from the compiled org model (DESIGN §10).

- ``components``: what every area shares (problem+json errors, the bearer scheme,
  the record parameters and headers, ``ref`` and ``error_responses``);
- ``values``: the JSON Schema of each field type's values, as the record codec
  accepts them and the record service sends them;
- ``objects`` and ``object_paths``: one set of schemas and record endpoints per object;
- ``document``: the assembly, area by area (each area describes its fixed
  endpoints beside its views, see ``api/areas.py``);
- ``serving``: ``GET /openapi.json`` and the per-metadata-version cache.
"""

from .components import ID_SCHEMA, JSON, error_responses, ref
from .document import OPENAPI_VERSION, Describe, build_openapi
from .object_paths import describe_objects, relation_names
from .objects import input_schema, record_schema
from .serving import EXTENSION, DocumentCache, bp

__all__ = [
    "EXTENSION",
    "ID_SCHEMA",
    "JSON",
    "OPENAPI_VERSION",
    "Describe",
    "DocumentCache",
    "bp",
    "build_openapi",
    "describe_objects",
    "error_responses",
    "input_schema",
    "record_schema",
    "ref",
    "relation_names",
]
