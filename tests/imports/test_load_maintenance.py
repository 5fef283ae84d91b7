"""What an import leaves to the database's own maintenance is done beside it, and the
database is left as it was found: SQLite's log checkpointed as usual after the load,
PostgreSQL's search index as searchable during the load as before it."""

from __future__ import annotations

from crm_platform.core.maintenance import CHECKPOINT_PAGES, LOAD_CHECKPOINT_PAGES


def _autocheckpoint(conn) -> int:
    return conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()


def test_a_load_defers_sqlite_checkpoints_only_until_its_connection_goes_back(org):
    if org.db.engine.dialect.name != "sqlite":
        with org.db.write() as conn:
            org.db.defer_checkpoints(conn)  # nothing to defer on PostgreSQL
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        return
    with org.db.write() as conn:
        org.db.defer_checkpoints(conn)
        assert _autocheckpoint(conn) == LOAD_CHECKPOINT_PAGES
    # the pool hands out the same connection again: checkpointing as usual
    for _ in range(3):
        with org.db.write() as conn:
            assert _autocheckpoint(conn) == CHECKPOINT_PAGES


def test_the_search_index_answers_while_its_pending_lists_are_cleaned_beside_a_load(org):
    """The cleaning connection works on PostgreSQL's GIN indexes while rows go in; on
    SQLite the block does nothing. Either way the rows are found as they are written."""
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import find_user
    from tests.conftest import ADMIN_EMAIL

    org.metadata.apply_definitions(
        [("object", {"api_name": "pet", "fields": [{"api_name": "name", "type": "text"}]})],
        author_id=SYSTEM_USER_ID,
    )
    with org.db.read() as conn:
        user = find_user(conn, ADMIN_EMAIL)
    with org.db.maintained_beside():
        for batch in range(5):
            with org.records.session(user) as session:
                session.create_many("pet", [{"name": f"Rex {batch}-{i}"} for i in range(200)])
        with org.records.session(user, write=False) as session:
            first = session.search("Rex 0-7", None, 50)
            last = session.search("Rex 4-199", None, 50)
    assert "Rex 0-7" in {hit["name"] for hit in first}
    assert [hit["name"] for hit in last] == ["Rex 4-199"]


def test_a_batch_process_collects_garbage_less_often_and_puts_the_defaults_back():
    import gc

    from crm_platform.core import batch_collection
    from crm_platform.core.collection import BATCH_THRESHOLD

    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with batch_collection():
        assert gc.get_threshold() == (BATCH_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > frozen  # what lived before is not walked again
        cycle: list = []
        cycle.append(cycle)  # garbage made within the block is still collected
        del cycle
        assert gc.collect() >= 1
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen
