"""The board's map on imported roads, in Debian's Chromium: streets drawn as vector lines from the product's
own database (no tile server), routes along them, labels, and the map fitted to the region."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core.clock import utcnow
from dispatch.core.types import EquipmentType, Grade, Role, VisitStatus
from dispatch.domain.policy import load_policy
from dispatch.roads.extracts import helsinki_pbf
from dispatch.roads.runtime import RUNTIME
from dispatch.roads.service import import_roads
from dispatch.tickets.models import Visit
from tests.board.conftest import LiveServer, screenshot, wait_for
from tests.board.test_board_ui import open_board
from tests.factories import make_depot, make_site, make_technician, make_ticket, make_user, point, token_for

pytestmark = pytest.mark.browser


def test_map_draws_the_imported_streets_and_routes_follow_them(
    page: Any, live_server: LiveServer, live_session: Session, live_db: Any
) -> None:
    RUNTIME.clear()
    import_roads(
        sessionmaker(bind=live_db, expire_on_commit=False),
        path=helsinki_pbf(),
        region="helsinki",
        policy=load_policy(),
        now=utcnow(),
    )
    user = make_user(live_session, role=Role.dispatcher)
    depot = make_depot(live_session, lat=60.1689, lon=24.9369)
    tech = make_technician(live_session, skills=["elevator"], depot=depot)
    tech.name = "Aino Virtanen"
    tech.last_position = point(60.1642, 24.9423)
    tech.last_position_at = utcnow()
    for i, (lat, lon) in enumerate([(60.1742, 24.9503), (60.1705, 24.9452)]):
        site, unit = make_site(live_session, lat=lat, lon=lon, equipment_type=EquipmentType.elevator)
        site.name = ["Mariankatu 12 building", "Aleksanterinkatu 3 building"][i]
        ticket = make_ticket(live_session, grade=Grade.MAJOR, equipment=unit, reported_at=utcnow())
        live_session.add(
            Visit(
                ticket_id=ticket.id,
                technician_id=tech.id,
                status=VisitStatus.assigned,
                planned_start_at=utcnow() + timedelta(minutes=30 * (i + 1)),
            )
        )
    live_session.commit()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    open_board(page, live_server, token_for(live_server.settings, user), view="map")
    root = page.locator("#view-map")
    assert root.get_attribute("data-sites") == "2"
    streets = wait_for(lambda: int(root.get_attribute("data-streets") or 0), what="streets drawn")
    assert streets > 100
    assert int(root.get_attribute("data-zoom") or 0) >= 14, "the map fits the region, not the world"
    assert root.get_attribute("data-routes-on-roads") == "1"
    labels = page.locator(".leaflet-tooltip.map-label").all_inner_texts()
    assert any("Mariankatu 12 building" in t for t in labels) and any("Aino Virtanen" in t for t in labels)
    assert "helsinki" in page.locator(".map-note").inner_text()
    assert all(u.startswith(live_server.url) for u in requests), [
        u for u in requests if not u.startswith(live_server.url)
    ]
    screenshot(page, "map-roads")
    RUNTIME.clear()
