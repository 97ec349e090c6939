"""Schema migrations (Alembic), run by `moviie migrate` and on `moviie serve` start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from moviie.db.engine import create_sync_db_engine
from moviie.db.models import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter: the job engine keeps its own tables beside ours on SQLite (a `dbos`
    schema on PostgreSQL); they are not ours to migrate."""
    return not (type_ == "table" and reflected and name not in Base.metadata.tables)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    engine = create_sync_db_engine(database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def autogenerate(database_url: str, message: str) -> None:
    """Write a new revision from the models (developers only)."""
    engine = create_sync_db_engine(database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True)
    finally:
        engine.dispose()
