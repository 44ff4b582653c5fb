"""technician API: event log (sync idempotency), work reports, parts, photos, return visits, confirmations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:05:41.565786+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The starter parts list (a deployment edits the table; `GET /api/v1/parts` serves it).
PARTS = [
    ("TC-BRK-PAD", "Slewing brake pad set", "set", "tower_crane"),
    ("TC-LIM-HGT", "Height limiter switch", "pc", "tower_crane"),
    ("TC-GBX-HST", "Hoist gearbox assembly", "pc", "tower_crane"),
    ("TC-WIRE-16", "Hoist wire rope 16 mm", "m", "tower_crane"),
    ("TC-CTRL-PLC", "Cab control PLC module", "pc", "tower_crane"),
    ("CH-OVL-SNS", "Overload sensor", "pc", "construction_hoist"),
    ("CH-SFT-GEAR", "Safety gear (anti-fall device)", "pc", "construction_hoist"),
    ("CH-DOOR-LCK", "Cage door interlock", "pc", "construction_hoist"),
    ("EL-DOOR-OP", "Landing door operator", "pc", "elevator"),
    ("EL-RELAY-24", "24 V control relay", "pc", "elevator"),
    ("BS-BAT-48", "48 V battery module", "pc", "base_station"),
    ("BS-RRU-FAN", "RRU cooling fan", "pc", "base_station"),
    ("BS-PSU-RECT", "Rectifier module", "pc", "base_station"),
    ("FA-PUMP-SEAL", "Pump mechanical seal", "pc", "facility"),
    ("GEN-FUSE-10", "Fuse 10 A", "pc", None),
    ("GEN-CABLE-2.5", "Cable 2.5 mm²", "m", None),
    ("GEN-GREASE", "Lithium grease", "kg", None),
]


def upgrade() -> None:
    op.create_table(
        "parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("equipment_type", sa.String(length=32), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parts")),
        sa.UniqueConstraint("code", name=op.f("uq_parts_code")),
    )
    op.create_table(
        "technician_notices",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_technician_notices_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_notices")),
    )
    op.create_index(op.f("ix_technician_notices_audience"), "technician_notices", ["audience"], unique=False)
    op.create_index(op.f("ix_technician_notices_ticket_id"), "technician_notices", ["ticket_id"], unique=False)
    op.create_table(
        "confirmation_links",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_confirmation_links_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_confirmation_links_visit_id_visits")),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_confirmation_links")),
    )
    op.create_index(op.f("ix_confirmation_links_ticket_id"), "confirmation_links", ["ticket_id"], unique=False)
    op.create_index(op.f("ix_confirmation_links_visit_id"), "confirmation_links", ["visit_id"], unique=False)
    op.create_table(
        "job_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("device_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"], ["technicians.id"], name=op.f("fk_job_events_technician_id_technicians")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_job_events_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_events")),
        sa.UniqueConstraint(
            "technician_id", "idempotency_key", name=op.f("uq_job_events_technician_id_idempotency_key")
        ),
    )
    op.create_index(op.f("ix_job_events_visit_id"), "job_events", ["visit_id"], unique=False)
    op.create_table(
        "job_photos",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_job_photos_ticket_id_tickets")),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"], ["users.id"], name=op.f("fk_job_photos_uploaded_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_job_photos_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_photos")),
    )
    op.create_index(op.f("ix_job_photos_ticket_id"), "job_photos", ["ticket_id"], unique=False)
    op.create_index(op.f("ix_job_photos_visit_id"), "job_photos", ["visit_id"], unique=False)
    op.create_table(
        "return_visit_tasks",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_user_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["done_by_user_id"], ["users.id"], name=op.f("fk_return_visit_tasks_done_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_return_visit_tasks_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_return_visit_tasks_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_visit_tasks")),
    )
    op.create_index(
        "ix_return_visit_tasks_open_due",
        "return_visit_tasks",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(op.f("ix_return_visit_tasks_ticket_id"), "return_visit_tasks", ["ticket_id"], unique=False)
    op.create_table(
        "work_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("cause_found", sa.Text(), nullable=False),
        sa.Column("work_done", sa.Text(), nullable=False),
        sa.Column("parts_used", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("minutes_spent", sa.Integer(), nullable=False),
        sa.Column("follow_up_needed", sa.Boolean(), nullable=False),
        sa.Column("follow_up_note", sa.Text(), nullable=True),
        sa.Column("photo_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_work_reports_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_work_reports_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_reports")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_work_reports_visit_id")),
    )
    op.create_index(op.f("ix_work_reports_ticket_id"), "work_reports", ["ticket_id"], unique=False)
    op.create_table(
        "confirmations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("link_jti", sa.String(length=64), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.Column("ratings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_role", sa.String(length=200), nullable=False),
        sa.Column("signature_png", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column("work_report", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_jti"], ["confirmation_links.jti"], name=op.f("fk_confirmations_link_jti_confirmation_links")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_confirmations_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_confirmations_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmations")),
        sa.UniqueConstraint("link_jti", name=op.f("uq_confirmations_link_jti")),
    )
    op.create_index(op.f("ix_confirmations_ticket_id"), "confirmations", ["ticket_id"], unique=False)
    # The technician's job list reads each equipment's latest tickets and raised alarms (index scans, not a
    # sort of the whole table): see technician_api/jobs/queries.py.
    op.create_index("ix_tickets_equipment_reported", "tickets", ["equipment_id", sa.text("reported_at DESC")])
    op.create_index(
        "ix_alarms_equipment_raised",
        "alarms",
        ["equipment_id", sa.text("received_at DESC")],
        postgresql_where=sa.text("state = 'raised'"),
    )
    parts = sa.table(
        "parts",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("unit", sa.String),
        sa.column("equipment_type", sa.String),
        sa.column("is_active", sa.Boolean),
    )
    op.bulk_insert(
        parts, [{"code": c, "name": n, "unit": u, "equipment_type": t, "is_active": True} for c, n, u, t in PARTS]
    )


def downgrade() -> None:
    op.drop_index("ix_alarms_equipment_raised", table_name="alarms")
    op.drop_index("ix_tickets_equipment_reported", table_name="tickets")
    op.drop_index(op.f("ix_confirmations_ticket_id"), table_name="confirmations")
    op.drop_table("confirmations")
    op.drop_index(op.f("ix_work_reports_ticket_id"), table_name="work_reports")
    op.drop_table("work_reports")
    op.drop_index(op.f("ix_return_visit_tasks_ticket_id"), table_name="return_visit_tasks")
    op.drop_index(
        "ix_return_visit_tasks_open_due", table_name="return_visit_tasks", postgresql_where=sa.text("status = 'open'")
    )
    op.drop_table("return_visit_tasks")
    op.drop_index(op.f("ix_job_photos_visit_id"), table_name="job_photos")
    op.drop_index(op.f("ix_job_photos_ticket_id"), table_name="job_photos")
    op.drop_table("job_photos")
    op.drop_index(op.f("ix_job_events_visit_id"), table_name="job_events")
    op.drop_table("job_events")
    op.drop_index(op.f("ix_confirmation_links_visit_id"), table_name="confirmation_links")
    op.drop_index(op.f("ix_confirmation_links_ticket_id"), table_name="confirmation_links")
    op.drop_table("confirmation_links")
    op.drop_index(op.f("ix_technician_notices_ticket_id"), table_name="technician_notices")
    op.drop_index(op.f("ix_technician_notices_audience"), table_name="technician_notices")
    op.drop_table("technician_notices")
    op.drop_table("parts")
