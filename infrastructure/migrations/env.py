"""Alembic environment: online migrations only, one transaction per run."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from infrastructure.db.tables import metadata

config = context.config
# Name the driver: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which we do not ship.
url = sa.engine.make_url(config.attributes["url"]).set(drivername="postgresql+psycopg2")
engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection, target_metadata=metadata, transaction_per_migration=False
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
