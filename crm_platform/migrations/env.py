"""Alembic environment: runs on the connection (and transaction) that ``crm upgrade`` passes in."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table="sys_alembic_version",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
