"""device gateway: registry, alarm faults, dead letters, device watches

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:04:37.767113+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=True),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replay_result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        sa.UniqueConstraint("digest", name=op.f("uq_dead_letters_digest")),
    )
    op.create_index(op.f("ix_dead_letters_device_id"), "dead_letters", ["device_id"], unique=False)
    op.create_index(op.f("ix_dead_letters_received_at"), "dead_letters", ["received_at"], unique=False)
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="unknown", nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_interval_s", sa.Integer(), nullable=True),
        sa.Column("provisioned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["equipment_id"], ["equipment.id"], name=op.f("fk_devices_equipment_id_equipment")),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_devices")),
    )
    op.create_index(op.f("ix_devices_equipment_id"), "devices", ["equipment_id"], unique=False)
    op.create_table(
        "alarm_faults",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("clear_count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recent_clears", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("flapping_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_recovered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_alarm_faults_equipment_id_equipment")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_alarm_faults_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_faults")),
    )
    op.create_index(op.f("ix_alarm_faults_equipment_id"), "alarm_faults", ["equipment_id"], unique=False)
    op.create_index(op.f("ix_alarm_faults_ticket_id"), "alarm_faults", ["ticket_id"], unique=False)
    op.create_index(
        "uq_alarm_faults_open_device_code",
        "alarm_faults",
        ["device_id", "code"],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "device_watches",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_device_watches_equipment_id_equipment")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_device_watches_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_watches")),
    )
    op.create_index(op.f("ix_device_watches_ticket_id"), "device_watches", ["ticket_id"], unique=False)
    op.create_index(
        "uq_device_watches_open_device",
        "device_watches",
        ["device_id"],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.add_column("alarms", sa.Column("fault_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "alarms",
        sa.Column(
            "extra", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
    )
    op.create_index(op.f("ix_alarms_fault_id"), "alarms", ["fault_id"], unique=False)
    op.create_foreign_key(op.f("fk_alarms_fault_id_alarm_faults"), "alarms", "alarm_faults", ["fault_id"], ["id"])


def downgrade() -> None:
    op.drop_constraint(op.f("fk_alarms_fault_id_alarm_faults"), "alarms", type_="foreignkey")
    op.drop_index(op.f("ix_alarms_fault_id"), table_name="alarms")
    op.drop_column("alarms", "extra")
    op.drop_column("alarms", "fault_id")
    op.drop_index(
        "uq_device_watches_open_device", table_name="device_watches", postgresql_where=sa.text("closed_at IS NULL")
    )
    op.drop_index(op.f("ix_device_watches_ticket_id"), table_name="device_watches")
    op.drop_table("device_watches")
    op.drop_index(
        "uq_alarm_faults_open_device_code", table_name="alarm_faults", postgresql_where=sa.text("closed_at IS NULL")
    )
    op.drop_index(op.f("ix_alarm_faults_ticket_id"), table_name="alarm_faults")
    op.drop_index(op.f("ix_alarm_faults_equipment_id"), table_name="alarm_faults")
    op.drop_table("alarm_faults")
    op.drop_index(op.f("ix_devices_equipment_id"), table_name="devices")
    op.drop_table("devices")
    op.drop_index(op.f("ix_dead_letters_received_at"), table_name="dead_letters")
    op.drop_index(op.f("ix_dead_letters_device_id"), table_name="dead_letters")
    op.drop_table("dead_letters")
