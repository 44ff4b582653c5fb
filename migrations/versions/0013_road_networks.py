"""road networks: versions of a region's imported OpenStreetMap roads, their vertices and edges

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 15:00:00+00:00

`onsite24 roads import` loads an extract into a new `road_networks` row (status `loading`), then switches it
to `active` and the region's previous network to `retired` in one transaction, so the API always reads one
complete network per region. `road_edges` follows pgRouting's convention (id, source, target, cost,
reverse_cost in seconds, a negative cost where the direction is not allowed), so `pgr_dijkstra` and friends
run on it directly.
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "road_networks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source_name", sa.String(length=400), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("activated_at", TZ, nullable=True),
        sa.Column("vertex_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("edge_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("speeds_kmh", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "bbox",
            geoalchemy2.types.Geometry(geometry_type="POLYGON", srid=4326, spatial_index=False),
            nullable=True,
        ),
        sa.CheckConstraint("status IN ('loading', 'active', 'retired')", name=op.f("ck_road_networks_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road_networks")),
    )
    # One active network per region: the switch retires the old row and activates the new one together.
    op.create_index(
        "uq_road_networks_active_region",
        "road_networks",
        ["region"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "road_vertices",
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("osm_node_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "geom", geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["road_networks.id"],
            name=op.f("fk_road_vertices_network_id_road_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("network_id", "id", name=op.f("pk_road_vertices")),
    )
    op.create_table(
        "road_edges",
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("reverse_cost", sa.Float(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("road_class", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("osm_way_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="LINESTRING", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["road_networks.id"],
            name=op.f("fk_road_edges_network_id_road_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("network_id", "id", name=op.f("pk_road_edges")),
    )
    op.create_index("ix_road_edges_geom", "road_edges", ["geom"], postgresql_using="gist")
    op.create_index("ix_road_vertices_geom", "road_vertices", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_index("ix_road_vertices_geom", table_name="road_vertices")
    op.drop_index("ix_road_edges_geom", table_name="road_edges")
    op.drop_table("road_edges")
    op.drop_table("road_vertices")
    op.drop_index("uq_road_networks_active_region", table_name="road_networks")
    op.drop_table("road_networks")
