"""The backup tests' org (see source_org.py), built once per module."""

from .source_org import source  # noqa: F401
