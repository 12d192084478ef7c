"""Alembic environment: the schema's one source of truth.

Migrations run as the schema owner (DATABASE_MIGRATION_URL); the application
connects as its own non-owner role (DATABASE_URL) so PostgreSQL's row-level
security applies to it.
"""

import payments.models  # noqa: F401  (registers every table on the metadata: agents.models and payments)
from alembic import context
from portal.core.db import make_engine, metadata
from portal.core.migrations import include_name
from portal.core.settings import get_settings


def run_migrations_offline() -> None:
    context.configure(
        url=get_settings().database.migration_url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(get_settings().database.migration_url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
