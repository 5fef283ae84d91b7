"""Fixtures of the workflow tests."""

from .approval_setup import deal  # noqa: F401  (the approvals org, for every module)
