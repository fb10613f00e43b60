"""What the last successful cycle stored, kept for the next process (issue 17).

A daemon remembers a hash of every input row its last committed cycle stored, and when
nothing else wrote since (same data version, day, settings and code) it stages only the rows
whose hash is new. A cron process had no such memory and staged all 100,000 rows of a large
sheet after a one-cell edit. ``sync_fingerprints`` now keeps them for any process:

- ``context``: the fingerprint of the settings, the local day and the code the cycle ran with;
- ``stored_rows``: the row hashes of each input frame (``sync.reuse.pack_hashes``), NULL when
  the cycle could not promise the database holds every row as the sheet does (a late edit
  was refused, a value could not be hashed).

``downgrade`` drops the two columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two columns."""
    op.add_column("sync_fingerprints", sa.Column("context", sa.Text(), nullable=True))
    op.add_column("sync_fingerprints", sa.Column("stored_rows", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    """Drop them again."""
    op.drop_column("sync_fingerprints", "stored_rows")
    op.drop_column("sync_fingerprints", "context")
