"""The PDF service report."""

from __future__ import annotations

import io

from pypdf import PdfReader

from dispatch.tickets.models import Ticket
from tests.technician_api.conftest import ARTIFACTS, complete, drive_to_site, signature_data_url, tiny_jpeg, token_of
from tests.technician_api.test_confirmation import GOOD


def test_pdf_report_is_produced_and_contains_the_signer(client, db_session, job, dispatcher_headers):
    """Dispatcher and customer download a PDF with the work report, ratings and the signer's name."""
    drive_to_site(client, job)
    client.post(f"/api/v1/jobs/{job.visit.id}/photos", files={"file": ("p.jpg", tiny_jpeg())}, headers=job.headers)
    db_session.expire_all()
    db_session.get(Ticket, job.ticket.id).symptom = "塔吊起升机构齿轮箱断齿"  # CJK text must survive into the PDF
    db_session.commit()
    token = token_of(complete(client, job)["confirmation"]["url"])
    assert client.post(f"/confirm/{token}", data={**GOOD, "signature": signature_data_url()}).status_code == 201

    r = client.get(f"/api/v1/tickets/{job.ticket.id}/report.pdf", headers=dispatcher_headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "service-report.pdf").write_bytes(r.content)
    reader = PdfReader(io.BytesIO(r.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Li Wei" in text and "Site manager" in text
    assert "Replaced the hoist gearbox" in text
    # Reported an hour ago with a 24 h promise, on site now: the promise was kept.
    assert "MET" in text and "MISSED" not in text
    assert "齿轮箱" in text.replace(" ", "")
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 2  # the photo thumbnail and the signature

    customer = client.get(f"/confirm/{token}/report.pdf")
    assert customer.status_code == 200 and customer.content.startswith(b"%PDF")


def test_technicians_cannot_download_office_reports(client, job):
    """The office PDF is for dispatchers and managers."""
    assert client.get(f"/api/v1/tickets/{job.ticket.id}/report.pdf", headers=job.headers).status_code == 403
