"""portal sessions on the server; the contact each sign-in link went to

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00+00:00

A portal cookie was a 7-day JWT that signing out could not take back; it is now a random token whose hash is
a `portal_sessions` row, revoked by signing out. `portal_login_links.contact_hash` lets a flood of sign-in
requests for someone else's phone send no more than a few links to it (NULL: printed by support). Existing
portal cookies stop working: customers sign in again once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_portal_sessions_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_sessions_token_hash")),
    )
    op.create_index(op.f("ix_portal_sessions_customer_id"), "portal_sessions", ["customer_id"], unique=False)
    op.create_index(op.f("ix_portal_sessions_expires_at"), "portal_sessions", ["expires_at"], unique=False)
    op.add_column("portal_login_links", sa.Column("contact_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("portal_login_links", "contact_hash")
    op.drop_index(op.f("ix_portal_sessions_expires_at"), table_name="portal_sessions")
    op.drop_index(op.f("ix_portal_sessions_customer_id"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
