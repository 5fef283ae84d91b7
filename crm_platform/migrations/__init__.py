"""Alembic scripts for the platform tables (``crm upgrade``); object tables are runtime DDL."""
