"""job photos keep when they were taken on the phone

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 16:30:00+00:00

A photo taken with no signal reaches the server hours later: `taken_at` is the phone's time of the picture
(never later than the upload), `created_at` stays the server's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("job_photos", sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("job_photos", "taken_at")
