"""intake of unregistered machines, the technician's reported ETA

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:00:00+00:00

`tickets.reported_manufacture_date` / `reported_equipment_type`: the first intake question (model, serial,
manufacture date) as the caller gave it for a machine the registry does not know yet. `visits.earliest_arrival_at`:
the arrival a technician reported with "cannot make the promised time", which the re-plan respects until the
technician or a dispatcher changes it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("tickets", sa.Column("reported_manufacture_date", sa.Date(), nullable=True))
    op.add_column(
        "tickets",
        sa.Column(
            "reported_equipment_type",
            sa.Enum(
                "tower_crane",
                "construction_hoist",
                "elevator",
                "base_station",
                "facility",
                name="ticket_reported_equipment_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
    )
    op.add_column("visits", sa.Column("earliest_arrival_at", TZ, nullable=True))


def downgrade() -> None:
    op.drop_column("visits", "earliest_arrival_at")
    op.drop_column("tickets", "reported_equipment_type")
    op.drop_column("tickets", "reported_manufacture_date")
