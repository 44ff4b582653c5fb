"""Arrangements for the portal tests: a customer with a site and a machine, signed in through the real link."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dispatch.core.clock import utcnow
from dispatch.core.settings import Settings
from dispatch.customers.models import Customer, Equipment, Site
from dispatch.portal.service import issue_sign_in_link
from tests.factories import make_site

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@dataclass
class Account:
    customer: Customer
    site: Site
    equipment: Equipment


def make_account(session: Session, *, language: str = "zh-CN", email: str | None = None) -> Account:
    site, unit = make_site(session)
    site.timezone = "Asia/Shanghai"
    customer = site.customer
    customer.language = language
    customer.email = email
    customer.notice_channels = ["in_app", "email"] if email else ["in_app"]
    session.commit()
    return Account(customer, site, unit)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, session: Session, settings: Settings, customer: Customer) -> None:
    """Sign in as a user does: open the link, press the button."""
    url = issue_sign_in_link(session, settings=settings, customer_id=customer.id, now=utcnow())
    session.commit()
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200, page.text
    r = client.post("/" + path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/portal"


@pytest.fixture
def account(db_session: Session) -> Account:
    return make_account(db_session)
