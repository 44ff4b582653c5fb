from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base

LOADING, ACTIVE, RETIRED = "loading", "active", "retired"


class RoadNetwork(Base):
    """One imported version of a region's roads. Exactly one per region is `active` (what the API reads); an
    import writes a `loading` version beside it and switches both in one transaction."""

    __tablename__ = "road_networks"
    __table_args__ = (
        CheckConstraint("status IN ('loading', 'active', 'retired')", name="status"),
        Index("uq_road_networks_active_region", "region", unique=True, postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16))
    source_name: Mapped[str] = mapped_column(String(400))
    source_sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    vertex_count: Mapped[int] = mapped_column(server_default="0")
    edge_count: Mapped[int] = mapped_column(server_default="0")
    speeds_kmh: Mapped[dict[str, Any]] = mapped_column(JSONB)
    bbox: Mapped[Any | None] = mapped_column(
        Geometry(geometry_type="POLYGON", srid=4326, spatial_index=False), nullable=True
    )


class RoadVertex(Base):
    """A junction or dead end of the routable graph (ids are 0..n-1 within a network)."""

    __tablename__ = "road_vertices"
    __table_args__ = (Index("ix_road_vertices_geom", "geom", postgresql_using="gist"),)

    network_id: Mapped[int] = mapped_column(ForeignKey("road_networks.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    osm_node_id: Mapped[int] = mapped_column(BigInteger)
    geom: Mapped[Any] = mapped_column(Geometry(geometry_type="POINT", srid=4326, spatial_index=False))


class RoadEdge(Base):
    """A stretch of road between two vertices, in pgRouting's convention: `cost` seconds from source to target,
    `reverse_cost` back; negative where that direction is not allowed (one-way streets)."""

    __tablename__ = "road_edges"
    __table_args__ = (Index("ix_road_edges_geom", "geom", postgresql_using="gist"),)

    network_id: Mapped[int] = mapped_column(ForeignKey("road_networks.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[int]
    target: Mapped[int]
    cost: Mapped[float] = mapped_column(Float)
    reverse_cost: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float] = mapped_column(Float)
    road_class: Mapped[str] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(200))
    osm_way_id: Mapped[int] = mapped_column(BigInteger)
    geom: Mapped[Any] = mapped_column(Geometry(geometry_type="LINESTRING", srid=4326, spatial_index=False))
