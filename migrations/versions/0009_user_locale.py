"""user interface language of staff users

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 20:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL means "not chosen": the board and the API then follow the browser's Accept-Language.
    op.add_column("users", sa.Column("locale", sa.String(length=10), nullable=True))
    op.create_check_constraint("locale_supported", "users", "locale IS NULL OR locale IN ('zh-CN', 'en', 'ko')")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_users_locale_supported"), "users", type_="check")
    op.drop_column("users", "locale")
