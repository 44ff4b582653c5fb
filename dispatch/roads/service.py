"""Importing a region's roads: read the extract, load it as a new network version, switch it in one transaction.

The API and the planner read only a region's `active` network, so an import never takes them down: the new
version is written beside the old one (status `loading`), then one short transaction retires the old and
activates the new; the old rows are deleted afterwards. A file that cannot be read, or holds no drivable
road, is refused before anything is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from dispatch.domain.policy import Policy
from dispatch.roads.models import ACTIVE, LOADING, RETIRED, RoadNetwork
from dispatch.roads.osm import OsmFileError, RoadGraphData, bbox, read_road_graph

Progress = Callable[[str], None]
COPY_PROGRESS_STEPS = 5

__all__ = ["ImportResult", "OsmFileError", "RoadImportBusy", "active_networks", "import_roads"]


class RoadImportBusy(RuntimeError):
    """Another import of the same region is running."""


@dataclass(frozen=True)
class ImportResult:
    network_id: int
    region: str
    vertices: int
    edges: int
    replaced: int | None  # the network id it replaced
    dropped_edges: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _linestring(coords: list[tuple[float, float]]) -> str:
    return "SRID=4326;LINESTRING(" + ",".join(f"{lon:.7f} {lat:.7f}" for lon, lat in coords) + ")"


def _copy(session: Session, network_id: int, data: RoadGraphData, say: Progress) -> None:
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cur:
        with cur.copy("COPY road_vertices (network_id, id, osm_node_id, geom) FROM STDIN") as copy:
            for i in range(data.vertex_count):
                copy.write_row(
                    (
                        network_id,
                        i,
                        int(data.vertex_osm_id[i]),
                        f"SRID=4326;POINT({data.vertex_lon[i]:.7f} {data.vertex_lat[i]:.7f})",
                    )
                )
        say(f"  wrote {data.vertex_count:,} junctions")
        step = max(1, data.edge_count // COPY_PROGRESS_STEPS)
        with cur.copy(
            "COPY road_edges (network_id, id, source, target, cost, reverse_cost, length_m, road_class, name,"
            " osm_way_id, geom) FROM STDIN"
        ) as copy:
            for i in range(data.edge_count):
                copy.write_row(
                    (
                        network_id,
                        i,
                        int(data.edge_source[i]),
                        int(data.edge_target[i]),
                        float(data.edge_cost[i]),
                        float(data.edge_reverse_cost[i]),
                        float(data.edge_length_m[i]),
                        data.edge_class[i],
                        data.edge_name[i],
                        int(data.edge_way_id[i]),
                        _linestring(data.edge_coords[i]),
                    )
                )
                if (i + 1) % step == 0 and i + 1 < data.edge_count:
                    say(f"  wrote {i + 1:,} of {data.edge_count:,} road edges ({100 * (i + 1) // data.edge_count}%)")
        say(f"  wrote {data.edge_count:,} road edges")


def import_roads(
    factory: sessionmaker[Session],
    *,
    path: Path,
    region: str,
    policy: Policy,
    now: datetime,
    progress: Progress | None = None,
) -> ImportResult:
    """Load the extract at `path` as `region`'s road network, replacing the active one without downtime.

    Raises `OsmFileError` (nothing written: the previous network stays) or `RoadImportBusy`."""
    say = progress or (lambda _msg: None)
    region = region.strip()
    if not region:
        raise ValueError("the region needs a name")
    say(f"reading {path}")
    data = read_road_graph(path, policy.roads.speeds_kmh, say)
    say(f"  {data.vertex_count:,} junctions, {data.edge_count:,} road edges")
    digest = _sha256(path)
    lock_key = f"onsite24.roads:{region}"
    with factory() as guard:
        # Held on its own connection for the whole import: two imports of one region would race the switch.
        if not guard.scalar(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": lock_key}):
            raise RoadImportBusy(f"another import of region {region!r} is running")
        try:
            with factory() as session:
                # A crashed import leaves a loading version behind; nobody reads it.
                session.execute(delete(RoadNetwork).where(RoadNetwork.region == region, RoadNetwork.status == LOADING))
                lon0, lat0, lon1, lat1 = bbox(data)
                network = RoadNetwork(
                    region=region,
                    status=LOADING,
                    source_name=path.name[:400],
                    source_sha256=digest,
                    started_at=now,
                    vertex_count=data.vertex_count,
                    edge_count=data.edge_count,
                    speeds_kmh=dict(policy.roads.speeds_kmh),
                    bbox=f"SRID=4326;POLYGON(({lon0} {lat0},{lon1} {lat0},{lon1} {lat1},{lon0} {lat1},{lon0} {lat0}))",
                )
                session.add(network)
                session.flush()
                network_id = network.id
                say(f"loading into the database as network {network_id} (region {region!r})")
                _copy(session, network_id, data, say)
                session.commit()
            replaced = _switch(factory, region=region, network_id=network_id, now=now)
            say(
                f"network {network_id} is now region {region!r}'s roads"
                + (f" (replaced {replaced})" if replaced else "")
            )
            with factory() as session:
                session.execute(delete(RoadNetwork).where(RoadNetwork.region == region, RoadNetwork.status == RETIRED))
                session.commit()
        except BaseException:
            with factory() as session:
                session.execute(delete(RoadNetwork).where(RoadNetwork.region == region, RoadNetwork.status == LOADING))
                session.commit()
            raise
        finally:
            guard.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": lock_key})
            guard.commit()
    return ImportResult(
        network_id=network_id,
        region=region,
        vertices=data.vertex_count,
        edges=data.edge_count,
        replaced=replaced,
        dropped_edges=data.dropped_edges,
    )


def _switch(factory: sessionmaker[Session], *, region: str, network_id: int, now: datetime) -> int | None:
    """Retire the region's active network and activate `network_id`, in one transaction."""
    with factory() as session:
        old = session.scalar(
            select(RoadNetwork.id).where(RoadNetwork.region == region, RoadNetwork.status == ACTIVE).with_for_update()
        )
        if old is not None:
            session.execute(update(RoadNetwork).where(RoadNetwork.id == old).values(status=RETIRED))
        session.execute(update(RoadNetwork).where(RoadNetwork.id == network_id).values(status=ACTIVE, activated_at=now))
        session.commit()
        return old


def active_networks(session: Session) -> list[RoadNetwork]:
    return list(session.scalars(select(RoadNetwork).where(RoadNetwork.status == ACTIVE).order_by(RoadNetwork.region)))
