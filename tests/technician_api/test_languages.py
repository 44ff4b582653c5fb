"""The customer's confirmation pages and the PDF report in zh-CN, en and ko (CJK embedded in the PDF)."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from dispatch.core import i18n
from dispatch.customers.models import Customer
from dispatch.tickets.models import Ticket
from tests.technician_api.conftest import ARTIFACTS, complete, drive_to_site, signature_data_url, token_of
from tests.technician_api.test_confirmation import GOOD

# A message key that escaped translation looks like `area.thing` or `area.thing.word`.
KEY = re.compile(r"\b[a-z][a-z0-9_-]*(?:\.[a-z0-9_/-]+){1,3}\b")
SYMPTOMS = {"zh_CN": "塔吊起升机构齿轮箱断齿", "ko": "타워크레인 호이스트 기어박스 파손", "en": "Hoist gearbox broken"}


def _leftover_keys(text: str) -> list[str]:
    english = i18n.translations("en")
    return [k for k in KEY.findall(text) if english.gettext(k) != k]


@pytest.fixture
def token(client, job) -> str:
    drive_to_site(client, job)
    return token_of(complete(client, job)["confirmation"]["url"])


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_the_form_is_in_the_chosen_language_with_a_switcher(client, job, token, locale):
    """?lang= picks the language; the page says so in <html lang>, Content-Language and its words, and remembers it."""
    r = client.get(f"/confirm/{token}?lang={i18n.tag(locale)}")
    assert r.status_code == 200
    assert f'<html lang="{i18n.tag(locale)}">' in r.text
    assert r.headers["content-language"] == i18n.tag(locale)
    assert i18n.gettext("confirm.submit", locale) in r.text
    assert i18n.gettext("confirm.dimension.attitude", locale) in r.text
    for other in i18n.LOCALES:
        assert f'?lang={i18n.tag(other)}"' in r.text  # the switcher offers every language
    assert f'action="/confirm/{token}?lang={i18n.tag(locale)}"' in r.text
    assert not _leftover_keys(r.text)
    assert r.cookies.get("onsite24_lang") == i18n.tag(locale)


def test_the_customers_recorded_language_beats_the_phones(client, db_session, job, token):
    """A customer recorded as Korean gets Korean even from a phone that asks for English; ?lang= still wins."""
    customer = db_session.get(Customer, job.site.customer_id)
    customer.language = "ko"
    db_session.commit()
    r = client.get(f"/confirm/{token}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="ko">' in r.text and i18n.gettext("confirm.title", "ko") in r.text
    assert '<html lang="zh-CN">' in client.get(f"/confirm/{token}?lang=zh-CN").text


def test_times_are_shown_in_the_sites_zone_and_language(client, db_session, job, token):
    """The report time reads as the site's local time (Asia/Shanghai), written the Chinese way."""
    ticket = db_session.get(Ticket, job.ticket.id)
    r = client.get(f"/confirm/{token}?lang=zh-CN")
    expected = i18n.format_datetime(ticket.reported_at, "zh_CN", job.site.timezone, "medium")
    assert expected in r.text and "UTC" not in r.text


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_thank_you_and_error_pages_follow_the_language(client, token, locale):
    """After signing, and for a used link, the customer reads the page in their language."""
    tag = i18n.tag(locale)
    thanks = client.post(f"/confirm/{token}?lang={tag}", data={**GOOD, "signature": signature_data_url()})
    assert thanks.status_code == 201 and f'<html lang="{tag}">' in thanks.text
    assert i18n.gettext("confirm.thanks.title", locale) in thanks.text
    used = client.get(f"/confirm/{token}?lang={tag}")
    assert used.status_code == 409
    assert i18n.gettext("error.confirmation-link-used.title", locale) in used.text
    assert i18n.gettext("error.link.used", locale) in used.text
    assert not _leftover_keys(thanks.text + used.text)


def test_an_incomplete_form_is_explained_in_the_language(client, token):
    """A missing signature is reported back on the Korean form, in Korean."""
    r = client.post(f"/confirm/{token}?lang=ko", data={**GOOD, "signature": ""})
    assert r.status_code == 422 and '<html lang="ko">' in r.text
    assert i18n.gettext("error.confirmation.incomplete", "ko", fields="signature") in r.text


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("locale", ["zh_CN", "ko"])
def test_cjk_report_has_its_glyphs_embedded_and_extractable(client, db_session, job, dispatcher_headers, locale):
    """A Chinese and a Korean report embed a font with the glyphs; the characters come back out of the PDF."""
    db_session.get(Ticket, job.ticket.id).symptom = SYMPTOMS[locale]
    db_session.commit()
    drive_to_site(client, job)
    token = token_of(complete(client, job)["confirmation"]["url"])
    assert client.post(f"/confirm/{token}", data={**GOOD, "signature": signature_data_url()}).status_code == 201

    r = client.get(f"/api/v1/tickets/{job.ticket.id}/report.pdf?lang={i18n.tag(locale)}", headers=dispatcher_headers)
    assert r.status_code == 200 and r.headers["content-language"] == i18n.tag(locale)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"service-report-{i18n.tag(locale)}.pdf").write_bytes(r.content)
    text = _pdf_text(r.content).replace(" ", "")
    assert SYMPTOMS[locale].replace(" ", "") in text
    for key in ("report.title", "report.timeline", "confirm.dimension.attitude"):
        label = i18n.gettext(key, locale, ticket_id=job.ticket.id).replace(" ", "")
        assert label in text, f"{key} in {locale}"
    assert not _leftover_keys(_pdf_text(r.content))
    # The CJK font is a subset embedded in the file (FontFile2: TrueType), not a reference to the reader's fonts.
    reader = PdfReader(io.BytesIO(r.content))
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts") or [font]
            for d in descendants:
                descriptor = d.get_object().get("/FontDescriptor")
                if descriptor is not None and ("/FontFile2" in descriptor or "/FontFile3" in descriptor):
                    embedded.add(str(font["/BaseFont"]))
    assert any("CJK" in name or "WenQuanYi" in name for name in embedded), embedded
    assert "STSong" not in r.content.decode("latin-1")


def test_the_customers_copy_follows_the_page_language(client, token):
    """The customer's PDF, opened from the Korean thank-you page, is in Korean."""
    client.post(f"/confirm/{token}?lang=ko", data={**GOOD, "signature": signature_data_url()})
    r = client.get(f"/confirm/{token}/report.pdf?lang=ko")
    assert r.status_code == 200 and r.headers["content-language"] == "ko"
    assert i18n.gettext("report.confirmation", "ko").replace(" ", "") in _pdf_text(r.content).replace(" ", "")


def test_the_phone_gets_states_and_actions_in_the_technicians_language(client, db_session, job):
    """A technician set to Korean reads job state, grade and the buttons' actions in Korean; codes stay."""
    job.user.locale = "ko"
    db_session.commit()
    page = client.get("/api/v1/me/jobs", headers=job.headers).json()["items"][0]
    assert page["status"] == "assigned" and page["status_text"] == i18n.gettext("status.assigned", "ko")
    assert page["grade_text"] == i18n.gettext(f"grade.{page['grade']}", "ko")
    assert page["action_texts"]["accept"] == i18n.gettext("action.accept", "ko")
    r = client.post(f"/api/v1/jobs/{job.visit.id}/events", json={"kind": "accept"}, headers=job.headers)
    assert r.json()["job_status_text"] == i18n.gettext("status.accepted", "ko")
    assert r.json()["action_texts"]["en_route"] == i18n.gettext("action.en_route", "ko")


def test_a_refused_step_is_explained_in_the_technicians_language(client, job):
    """Arriving before accepting: the 409 names the state and the allowed actions in Chinese; codes unchanged."""
    r = client.post(
        f"/api/v1/jobs/{job.visit.id}/events?lang=zh-CN",
        json={"kind": "arrived", "position": {"lat": 28.2, "lon": 112.95}},
        headers=job.headers,
    )
    assert r.status_code == 409
    body = r.json()
    assert body["allowed"] == ["accept", "decline", "cannot_meet_time"]
    allowed = "、".join(i18n.gettext(f"action.{a}", "zh_CN") for a in body["allowed"])
    assert body["detail"] == i18n.gettext(
        "error.illegal-transition.job",
        "zh_CN",
        action=i18n.gettext("action.arrived", "zh_CN"),
        state=i18n.gettext("status.assigned", "zh_CN"),
        allowed=allowed,
    )
    assert body["title"] == i18n.gettext("error.illegal-transition.title", "zh_CN")


def test_offline_refusals_are_explained_in_the_phones_language_also_on_replay(client, job):
    """A queued event the job no longer allows comes back refused with the reason in the technician's language;
    resending the batch from a phone set to Korean explains the same refusal in Korean. Codes stay."""
    from datetime import timedelta

    from dispatch.core.clock import utcnow

    event = {
        "kind": "arrived",
        "position": {"lat": 28.2, "lon": 112.95},
        "idempotency_key": f"job{job.visit.id}-arrived-early",
        "job_id": job.visit.id,
        "device_at": (utcnow() - timedelta(minutes=5)).isoformat(),
    }

    def words(locale: str) -> str:
        allowed = i18n.gettext("list.separator", locale).join(
            i18n.gettext(f"action.{a}", locale) for a in ("accept", "decline", "cannot_meet_time")
        )
        return i18n.gettext(
            "error.illegal-transition.job",
            locale,
            action=i18n.gettext("action.arrived", locale),
            state=i18n.gettext("status.assigned", locale),
            allowed=allowed,
        )

    first = client.post("/api/v1/me/sync?lang=zh-CN", json={"events": [event]}, headers=job.headers).json()
    refused = first["results"][0]
    assert refused["status"] == "conflict" and refused["reason"] == "illegal_transition"
    assert refused["detail"] == words("zh_CN")
    assert "text_key" not in refused  # what the words are made from is not part of the answer
    again = client.post("/api/v1/me/sync?lang=ko", json={"events": [event]}, headers=job.headers).json()
    replay = again["results"][0]
    assert replay["status"] == "duplicate" and replay["detail"] == words("ko")
