"""Staff users choose their language; the API's error texts follow it (or the browser's) in zh-CN, en and ko."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import dispatch
import technician_api
from dispatch.core import i18n
from dispatch.core.errors import DomainError
from dispatch.core.types import Role
from tests.factories import auth_header, make_user


def _all_error_classes() -> set[type[DomainError]]:
    for package in (dispatch, technician_api):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    todo = [DomainError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_code_has_a_title_in_every_language():
    """Whatever goes wrong, the problem's title is written in the reader's language."""
    for cls in _all_error_classes():
        key = f"error.{cls.code}.title"
        assert i18n.has_key(key), f"{cls.__name__}: add {key} to the catalogues"
        assert i18n.gettext(key, "en") == cls.title, f"{key}: the English title is the class's title"


def test_user_sets_reads_and_clears_their_language(client, db_session, settings):
    """A dispatcher picks Korean; the setting is kept, answers at once in Korean, and null follows the browser."""
    user = make_user(db_session, role=Role.dispatcher)
    headers = auth_header(settings, user)
    start = client.get("/api/v1/me/settings", headers={**headers, "Accept-Language": "zh-CN"})
    assert start.status_code == 200 and start.json() == {"locale": None, "effective_locale": "zh-CN"}

    changed = client.patch("/api/v1/me/settings", json={"locale": "ko"}, headers=headers)
    assert changed.status_code == 200 and changed.json() == {"locale": "ko", "effective_locale": "ko"}
    assert client.get("/api/v1/users/me", headers=headers).json()["locale"] == "ko"
    # The saved choice beats the browser's language.
    again = client.get("/api/v1/me/settings", headers={**headers, "Accept-Language": "en"})
    assert again.json()["effective_locale"] == "ko"

    cleared = client.patch("/api/v1/me/settings", json={"locale": None}, headers={**headers, "Accept-Language": "en"})
    assert cleared.json() == {"locale": None, "effective_locale": "en"}


def test_an_unsupported_language_is_refused_with_the_field(client, db_session, settings):
    """Only the shipped languages can be saved; the 422 names the field and lists the choices."""
    user = make_user(db_session)
    r = client.patch("/api/v1/me/settings", json={"locale": "fr"}, headers=auth_header(settings, user))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["pointer"] == "/locale"
    assert "zh-CN" in r.json()["errors"][0]["detail"]


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_problem_title_and_detail_follow_the_saved_language(client, db_session, settings, locale):
    """A technician whose language is set reads a 404 and a 403 in it, with Content-Language saying so."""
    user = make_user(db_session, role=Role.technician)
    user.locale = i18n.tag(locale)
    db_session.commit()
    headers = {**auth_header(settings, user), "Accept-Language": "en" if locale != "en" else "ko"}
    missing = client.get("/api/v1/me/jobs/999999", headers=headers)
    assert missing.status_code == 404
    body = missing.json()
    assert body["title"] == i18n.gettext("error.not-found.title", locale)
    assert body["detail"] == i18n.gettext("error.job.not-found", locale, job_id=999999)
    assert body["type"].endswith("/not-found") and body["status"] == 404
    assert missing.headers["content-language"] == i18n.tag(locale)
    refused = client.get("/api/v1/technicians", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["title"] == i18n.gettext("error.forbidden.title", locale)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_validation_errors_are_explained_in_the_browsers_language(client, db_session, settings, locale):
    """Field errors keep their pointers; their text comes from the pydantic error type, with its limits filled."""
    admin = make_user(db_session, role=Role.admin)
    r = client.post(
        "/api/v1/users",
        json={"username": "ab", "full_name": "X", "password": "short", "role": "technician", "bogus": 1},
        headers={**auth_header(settings, admin), "Accept-Language": i18n.tag(locale)},
    )
    assert r.status_code == 422
    body = r.json()
    by_pointer = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert by_pointer["/username"] == i18n.gettext("validation.string_too_short", locale, min_length=3)
    assert by_pointer["/password"] == i18n.gettext("validation.string_too_short", locale, min_length=10)
    assert by_pointer["/bogus"] == i18n.gettext("validation.extra_forbidden", locale)
    assert body["title"] == i18n.gettext("error.validation-error.title", locale)
    assert r.headers["content-language"] == i18n.tag(locale)


def test_lang_query_parameter_chooses_the_language_of_a_detail_with_parameters(client, db_session, settings):
    """?lang=zh-CN gives the Chinese text with the ticket number filled in."""
    user = make_user(db_session, role=Role.dispatcher)
    r = client.get("/api/v1/tickets/2147483647?lang=zh-CN", headers=auth_header(settings, user))
    assert r.status_code == 404
    assert r.json()["detail"] == i18n.gettext("error.ticket.not-found", "zh_CN", ticket_id=2147483647)


def test_without_a_language_errors_stay_in_the_default(client, db_session):
    """Clients that ask for nothing get the deployment's default language (English in tests)."""
    r = client.get("/api/v1/users/me")
    assert r.status_code == 401 and r.json()["title"] == "Authentication required"
    assert r.headers["content-language"] == "en"
