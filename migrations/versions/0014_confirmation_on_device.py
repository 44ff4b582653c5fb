"""confirmations signed on the technician's phone; the relationship and improvement answers

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 15:00:00+00:00

The customer may fill in and sign the feedback form on the technician's phone, also with no signal: the app
sends it later with its own idempotency key (`idempotency_key`, unique), and `channel` says which path it came
by (`link` or `device`), `submitted_by_user_id` who carried it. The form also asks whether the relationship
is kept (`relationship_kept`) and what should improve in the product, the service process and the people
(`improvements`). Existing rows keep their seal: the new answers enter the sealed document only when given.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("confirmations", sa.Column("relationship_kept", sa.Boolean(), nullable=True))
    op.add_column(
        "confirmations",
        sa.Column(
            "improvements",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column("confirmations", sa.Column("channel", sa.String(length=20), server_default="link", nullable=False))
    op.add_column("confirmations", sa.Column("idempotency_key", sa.String(length=100), nullable=True))
    op.add_column("confirmations", sa.Column("submitted_by_user_id", sa.Integer(), nullable=True))
    op.create_unique_constraint(op.f("uq_confirmations_idempotency_key"), "confirmations", ["idempotency_key"])
    op.create_foreign_key(
        op.f("fk_confirmations_submitted_by_user_id_users"),
        "confirmations",
        "users",
        ["submitted_by_user_id"],
        ["id"],
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_confirmations_submitted_by_user_id_users"), "confirmations", type_="foreignkey")
    op.drop_constraint(op.f("uq_confirmations_idempotency_key"), "confirmations", type_="unique")
    for column in ("submitted_by_user_id", "idempotency_key", "channel", "improvements", "relationship_kept"):
        op.drop_column("confirmations", column)
