"""intake escalation notifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:03:45.785315+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("step_key", sa.String(length=80), nullable=False),
        sa.Column("audience", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("fired_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_escalation_events_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_events")),
        sa.UniqueConstraint("ticket_id", "step_key", name=op.f("uq_escalation_events_ticket_id_step_key")),
    )
    op.create_index(op.f("ix_escalation_events_ticket_id"), "escalation_events", ["ticket_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("audience", sa.String(length=60), nullable=True),
        sa.Column("recipient", sa.String(length=300), nullable=True),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_notifications_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_audience"), "notifications", ["audience"], unique=False)
    op.create_index(
        "ix_notifications_pending",
        "notifications",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(op.f("ix_notifications_ticket_id"), "notifications", ["ticket_id"], unique=False)
    op.create_table(
        "ticket_escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired_keys", postgresql.ARRAY(sa.String(length=80)), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledgement_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"], name=op.f("fk_ticket_escalations_acknowledged_by_id_users")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_escalations_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_escalations")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_ticket_escalations_ticket_id")),
    )
    op.create_index(op.f("ix_ticket_escalations_next_check_at"), "ticket_escalations", ["next_check_at"], unique=False)
    op.create_table(
        "ticket_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "phone",
                "web",
                "app",
                "device",
                name="report_channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("linked", sa.Boolean(), nullable=False),
        sa.Column("reporter_name", sa.String(length=200), nullable=True),
        sa.Column("reporter_phone", sa.String(length=40), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "equipment",
                "service_attitude",
                "service_quality",
                "emergency",
                name="report_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("symptom", sa.Text(), nullable=False),
        sa.Column("location_detail", sa.Text(), nullable=True),
        sa.Column("working_condition", sa.Text(), nullable=True),
        sa.Column("impact", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("special_request", sa.Text(), nullable=True),
        sa.Column(
            "computed_grade",
            sa.Enum(
                "major", "serious", "general", name="report_grade", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("taken_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["taken_by_id"], ["users.id"], name=op.f("fk_ticket_reports_taken_by_id_users")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_reports_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_reports")),
    )
    op.create_index(op.f("ix_ticket_reports_ticket_id"), "ticket_reports", ["ticket_id"], unique=False)
    op.add_column("tickets", sa.Column("eta_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tickets", sa.Column("assigned_technician_id", sa.Integer(), nullable=True))
    op.add_column("tickets", sa.Column("nature_note", sa.Text(), nullable=True))
    op.create_foreign_key(
        op.f("fk_tickets_assigned_technician_id_technicians"),
        "tickets",
        "technicians",
        ["assigned_technician_id"],
        ["id"],
    )
    # Visits gain the 'reassigned' state of the visit lifecycle.
    op.drop_constraint(op.f("ck_visits_visit_status"), "visits", type_="check")
    op.create_check_constraint(op.f("ck_visits_visit_status"), "visits", f"status IN ({_VISIT_STATES})")


_VISIT_STATES = "'planned', 'assigned', 'accepted', 'en_route', 'on_site', 'paused', 'completed', 'declined', 'cancelled', 'reassigned'"


def downgrade() -> None:
    op.execute("UPDATE visits SET status = 'cancelled' WHERE status = 'reassigned'")
    op.drop_constraint(op.f("ck_visits_visit_status"), "visits", type_="check")
    op.create_check_constraint(
        op.f("ck_visits_visit_status"), "visits", f"status IN ({_VISIT_STATES.rsplit(',', 1)[0]})"
    )
    op.drop_constraint(op.f("fk_tickets_assigned_technician_id_technicians"), "tickets", type_="foreignkey")
    op.drop_column("tickets", "nature_note")
    op.drop_column("tickets", "assigned_technician_id")
    op.drop_column("tickets", "eta_at")
    op.drop_index(op.f("ix_ticket_reports_ticket_id"), table_name="ticket_reports")
    op.drop_table("ticket_reports")
    op.drop_index(op.f("ix_ticket_escalations_next_check_at"), table_name="ticket_escalations")
    op.drop_table("ticket_escalations")
    op.drop_index(op.f("ix_notifications_ticket_id"), table_name="notifications")
    op.drop_index(
        "ix_notifications_pending", table_name="notifications", postgresql_where=sa.text("status = 'pending'")
    )
    op.drop_index(op.f("ix_notifications_audience"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_escalation_events_ticket_id"), table_name="escalation_events")
    op.drop_table("escalation_events")
