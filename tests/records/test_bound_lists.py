"""A batch's values bound as one list (``core.in_list``) match whole values only, on both
databases, however often the statement runs (PostgreSQL plans a prepared one anew)."""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core import in_list, new_ids


def test_a_listed_value_matches_only_a_whole_value_of_the_column(database_url):
    engine = sa.create_engine(database_url)
    table = sa.Table("t_bound_ids", sa.MetaData(), sa.Column("id", sa.String(36), primary_key=True))
    ids = new_ids(1000)
    try:
        with engine.begin() as conn:
            table.create(conn)
            conn.execute(table.insert(), [{"id": i} for i in ids])
        dialect = engine.dialect.name
        wanted = [*ids[:400], ids[500] + "-2", ids[600][:35], "not an id"]
        with engine.connect() as conn:
            for _ in range(8):  # past psycopg's preparing of a statement run five times
                query = sa.select(table.c.id).where(in_list(dialect, table.c.id, wanted))
                assert sorted(conn.execute(query).scalars()) == sorted(ids[:400])
    finally:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
        engine.dispose()


def test_a_bound_list_keeps_every_value_as_given(database_url):
    """Quotes, backslashes, commas, braces, blanks, the word NULL and a real null come
    back from the database as they went in (PostgreSQL receives the list as one array
    literal)."""
    from crm_platform.core import unnested

    given = ['a"b', "c\\d", None, "NULL", "", " x ", "{}", "a,b", "伟 张", '\\"']
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = unnested(engine.dialect.name, given)
            query = sa.select(rows.c.v).order_by(rows.c.i)
            assert list(conn.execute(query).scalars()) == given
    finally:
        engine.dispose()
