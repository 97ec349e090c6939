from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from moviie.db.engine import create_sync_db_engine
from moviie.db.migrate import include_object
from moviie.db.models import Base


def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = create_sync_db_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "include_object": include_object},
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
