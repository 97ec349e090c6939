"""Alembic environment: runs on the connection that `moviie.db.migrate` hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from moviie.db.migrate import include_object
from moviie.db.models import Base

connection = context.config.attributes["connection"]
is_postgres = connection.dialect.name == "postgresql"


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=not is_postgres,  # SQLite alters tables by copying them
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    if is_postgres:
        # Several processes may start at once; one migrates, the others wait and find it done.
        connection.execute(text("SELECT pg_advisory_xact_lock(7305596812)"))
    context.run_migrations()
