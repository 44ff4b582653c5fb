"""A customer can report a machine that is not in the registry yet, like an agent can."""

from __future__ import annotations

from sqlalchemy import select

from dispatch.tickets.models import Ticket
from tests.factories import make_site
from tests.portal.conftest import csrf_of, sign_in


def _unlisted(client, **fields):  # type: ignore[no-untyped-def]
    form = client.get("/portal/complaint")
    assert 'name="serial_number"' in form.text
    data = {
        "csrf": csrf_of(form.text),
        "equipment_id": "new",
        "category": "equipment",
        "symptom": "Hoist will not start",
        "equipment_down": "on",
        **fields,
    }
    return client.post("/portal/complaint", data=data)


def test_unregistered_machine_at_one_of_my_sites_is_planned_there(client, db_session, settings, account):
    """Serial, model, type and manufacture date of a new machine at a known site: the ticket has that site."""
    sign_in(client, db_session, settings, account.customer)
    r = _unlisted(
        client,
        serial_number="SC200-NEW-9",
        model="SC200",
        equipment_type="construction_hoist",
        manufacture_date="2024-02-05",
        site_id=str(account.site.id),
    )
    assert r.status_code == 200, r.text
    ticket = db_session.scalars(select(Ticket).where(Ticket.customer_id == account.customer.id)).one()
    assert ticket.reported_serial == "SC200-NEW-9" and ticket.site_id == account.site.id
    assert ticket.reported_manufacture_date.isoformat() == "2024-02-05"
    assert ticket.reported_equipment_type.value == "construction_hoist"


def test_unregistered_machine_at_a_new_address_keeps_the_address(client, db_session, settings, account):
    """Without a registered site the address travels with the ticket for the office to record."""
    sign_in(client, db_session, settings, account.customer)
    r = _unlisted(client, serial_number="QTZ-NEW-1", site_address="12 Xiang River Road, Changsha")
    assert r.status_code == 200, r.text
    ticket = db_session.scalars(select(Ticket).where(Ticket.customer_id == account.customer.id)).one()
    assert ticket.site_id is None and "12 Xiang River Road" in (ticket.location_detail or "")


def test_someone_elses_serial_is_refused(client, db_session, settings, account):
    """A serial registered to another customer is not theirs to report (nor to learn about)."""
    _site, foreign = make_site(db_session)
    db_session.commit()
    sign_in(client, db_session, settings, account.customer)
    r = _unlisted(client, serial_number=foreign.serial_number, site_id=str(account.site.id))
    assert r.status_code == 422
    assert db_session.scalars(select(Ticket).where(Ticket.customer_id == account.customer.id)).first() is None


def test_an_unlisted_machine_needs_a_place(client, db_session, settings, account):
    """Neither a site nor an address: the form says where is needed, nothing is opened."""
    sign_in(client, db_session, settings, account.customer)
    r = _unlisted(client, serial_number="QTZ-NEW-2")
    assert r.status_code == 422
