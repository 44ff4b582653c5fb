"""A visit dropped at a time on the board: not before that time.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("visits", sa.Column("pinned_start_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("visits", "pinned_start_at")
