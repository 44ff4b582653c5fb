"""A technician's day ends at home; vans carry loads (issue 16)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 15:00:00+00:00

`technicians.home_location`: where the day ends when it is not the home depot (a home address; NULL: the
depot). `technicians.van_capacity`: what the van carries in the policy's `routing.load_unit` (NULL: no limit).
`tickets.load_units`: what the visit takes from the van (the spare part it needs; 0 by default).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "technicians",
        sa.Column(
            "home_location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
    )
    op.create_geospatial_index(
        "idx_technicians_home_location",
        "technicians",
        ["home_location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.add_column("technicians", sa.Column("van_capacity", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("load_units", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("tickets", "load_units")
    op.drop_column("technicians", "van_capacity")
    op.drop_geospatial_index(
        "idx_technicians_home_location",
        table_name="technicians",
        postgresql_using="gist",
        column_name="home_location",
    )
    op.drop_column("technicians", "home_location")
