"""foundation schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:54:56.464383+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The provisioning creates the extension as a superuser; this is a no-op then and a clear error otherwise.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index(op.f("ix_customers_phone"), "customers", ["phone"], unique=False)
    op.create_geospatial_table(
        "depots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "service_centre",
                "partner_point",
                name="depot_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=400), nullable=True),
        sa.Column("region", sa.String(length=80), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column(
            "location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "coverage_area",
            Geography(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_depots")),
    )
    op.create_geospatial_index(
        "idx_depots_coverage_area",
        "depots",
        ["coverage_area"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_depots_location",
        "depots",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_depots_region"), "depots", ["region"], unique=False)
    op.create_geospatial_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("region", sa.String(length=80), nullable=True),
        sa.Column(
            "location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("access_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_sites_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_geospatial_index(
        "idx_sites_location", "sites", ["location"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_sites_customer_id"), "sites", ["customer_id"], unique=False)
    op.create_index(op.f("ix_sites_region"), "sites", ["region"], unique=False)
    op.create_geospatial_table(
        "technicians",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("home_depot_id", sa.Integer(), nullable=False),
        sa.Column("skills", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("certifications", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "last_position",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("last_position_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["home_depot_id"], ["depots.id"], name=op.f("fk_technicians_home_depot_id_depots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technicians")),
    )
    op.create_geospatial_index(
        "idx_technicians_last_position",
        "technicians",
        ["last_position"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_technicians_home_depot_id"), "technicians", ["home_depot_id"], unique=False)
    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column(
            "equipment_type",
            sa.Enum(
                "tower_crane",
                "construction_hoist",
                "elevator",
                "base_station",
                "facility",
                name="equipment_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("serial_number", sa.String(length=100), nullable=False),
        sa.Column("manufacture_date", sa.Date(), nullable=True),
        sa.Column("device_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_equipment_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
        sa.UniqueConstraint("device_id", name=op.f("uq_equipment_device_id")),
        sa.UniqueConstraint("serial_number", name=op.f("uq_equipment_serial_number")),
    )
    op.create_index(op.f("ix_equipment_site_id"), "equipment", ["site_id"], unique=False)
    op.create_table(
        "technician_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("on_call", sa.Boolean(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_technician_shifts_shift_positive")),
        sa.ForeignKeyConstraint(
            ["technician_id"], ["technicians.id"], name=op.f("fk_technician_shifts_technician_id_technicians")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_shifts")),
    )
    op.create_index(op.f("ix_technician_shifts_starts_at"), "technician_shifts", ["starts_at"], unique=False)
    op.create_index(op.f("ix_technician_shifts_technician_id"), "technician_shifts", ["technician_id"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "agent",
                "dispatcher",
                "technician",
                "manager",
                name="user_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"], name=op.f("fk_users_technician_id_technicians")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("technician_id", name=op.f("uq_users_technician_id")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "equipment_site_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("moved_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moved_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_equipment_site_history_equipment_id_equipment")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_equipment_site_history_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_site_history")),
    )
    op.create_index(
        op.f("ix_equipment_site_history_equipment_id"),
        "equipment_site_history",
        ["equipment_id"],
        unique=False,
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "phone",
                "web",
                "app",
                "device",
                name="ticket_channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("equipment_id", sa.Integer(), nullable=True),
        sa.Column("reporter_name", sa.String(length=200), nullable=True),
        sa.Column("reporter_phone", sa.String(length=40), nullable=True),
        sa.Column("reported_serial", sa.String(length=100), nullable=True),
        sa.Column("reported_model", sa.String(length=100), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "equipment",
                "service_attitude",
                "service_quality",
                "emergency",
                name="ticket_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "nature",
            sa.Enum(
                "effective",
                "communication",
                "invalid",
                name="ticket_nature",
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
            "grade",
            sa.Enum(
                "major",
                "serious",
                "general",
                name="ticket_grade",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("grade_reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("grade_overridden", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "assigned",
                "accepted",
                "en_route",
                "on_site",
                "resolved",
                "confirmed",
                "closed",
                "reopened",
                "cancelled",
                "invalid",
                name="ticket_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("due_on_site_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadlines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        sa.Column("first_responder_id", sa.Integer(), nullable=True),
        sa.Column("related_ticket_id", sa.Integer(), nullable=True),
        sa.Column("on_site_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closure_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_tickets_customer_id_customers")),
        sa.ForeignKeyConstraint(["equipment_id"], ["equipment.id"], name=op.f("fk_tickets_equipment_id_equipment")),
        sa.ForeignKeyConstraint(["first_responder_id"], ["users.id"], name=op.f("fk_tickets_first_responder_id_users")),
        sa.ForeignKeyConstraint(
            ["related_ticket_id"], ["tickets.id"], name=op.f("fk_tickets_related_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_tickets_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index(op.f("ix_tickets_customer_id"), "tickets", ["customer_id"], unique=False)
    op.create_index("ix_tickets_open_due", "tickets", ["status", "due_on_site_at"], unique=False)
    op.create_index(
        "ix_tickets_open_equipment",
        "tickets",
        ["equipment_id"],
        unique=False,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index(op.f("ix_tickets_site_id"), "tickets", ["site_id"], unique=False)
    op.create_table(
        "alarms",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("alarm_id", sa.String(length=100), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("device_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["equipment_id"], ["equipment.id"], name=op.f("fk_alarms_equipment_id_equipment")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_alarms_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
        sa.UniqueConstraint("device_id", "alarm_id", name=op.f("uq_alarms_device_id_alarm_id")),
    )
    op.create_index(op.f("ix_alarms_device_id"), "alarms", ["device_id"], unique=False)
    op.create_index(op.f("ix_alarms_equipment_id"), "alarms", ["equipment_id"], unique=False)
    op.create_index(op.f("ix_alarms_ticket_id"), "alarms", ["ticket_id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], name=op.f("fk_audit_log_actor_user_id_users")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_audit_log_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_ticket_id"), "audit_log", ["ticket_id"], unique=False)
    op.create_geospatial_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "assigned",
                "accepted",
                "en_route",
                "on_site",
                "paused",
                "completed",
                "declined",
                "cancelled",
                name="visit_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("service_minutes", sa.Integer(), nullable=False),
        sa.Column("planned_departure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_arrival_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("departed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "arrival_location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
            ),
            nullable=True,
        ),
        sa.Column("arrival_distance_m", sa.Double(), nullable=True),
        sa.Column("arrival_outside_geofence", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"], ["technicians.id"], name=op.f("fk_visits_technician_id_technicians")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_visits_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_geospatial_index(
        "idx_visits_arrival_location",
        "visits",
        ["arrival_location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_visits_technician_id"), "visits", ["technician_id"], unique=False)
    op.create_index(op.f("ix_visits_ticket_id"), "visits", ["ticket_id"], unique=False)
    # The audit log is append-only: edits and deletions are refused by the database itself.
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
        END $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_index(op.f("ix_visits_ticket_id"), table_name="visits")
    op.drop_index(op.f("ix_visits_technician_id"), table_name="visits")
    op.drop_geospatial_index(
        "idx_visits_arrival_location",
        table_name="visits",
        postgresql_using="gist",
        column_name="arrival_location",
    )
    op.drop_geospatial_table("visits")
    op.drop_index(op.f("ix_audit_log_ticket_id"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_alarms_ticket_id"), table_name="alarms")
    op.drop_index(op.f("ix_alarms_equipment_id"), table_name="alarms")
    op.drop_index(op.f("ix_alarms_device_id"), table_name="alarms")
    op.drop_table("alarms")
    op.drop_index(op.f("ix_tickets_site_id"), table_name="tickets")
    op.drop_index("ix_tickets_open_equipment", table_name="tickets", postgresql_where=sa.text("closed_at IS NULL"))
    op.drop_index("ix_tickets_open_due", table_name="tickets")
    op.drop_index(op.f("ix_tickets_customer_id"), table_name="tickets")
    op.drop_table("tickets")
    op.drop_index(op.f("ix_equipment_site_history_equipment_id"), table_name="equipment_site_history")
    op.drop_table("equipment_site_history")
    op.drop_table("users")
    op.drop_index(op.f("ix_technician_shifts_technician_id"), table_name="technician_shifts")
    op.drop_index(op.f("ix_technician_shifts_starts_at"), table_name="technician_shifts")
    op.drop_table("technician_shifts")
    op.drop_index(op.f("ix_equipment_site_id"), table_name="equipment")
    op.drop_table("equipment")
    op.drop_index(op.f("ix_technicians_home_depot_id"), table_name="technicians")
    op.drop_geospatial_index(
        "idx_technicians_last_position",
        table_name="technicians",
        postgresql_using="gist",
        column_name="last_position",
    )
    op.drop_geospatial_table("technicians")
    op.drop_index(op.f("ix_sites_region"), table_name="sites")
    op.drop_index(op.f("ix_sites_customer_id"), table_name="sites")
    op.drop_geospatial_index("idx_sites_location", table_name="sites", postgresql_using="gist", column_name="location")
    op.drop_geospatial_table("sites")
    op.drop_index(op.f("ix_depots_region"), table_name="depots")
    op.drop_geospatial_index(
        "idx_depots_location", table_name="depots", postgresql_using="gist", column_name="location"
    )
    op.drop_geospatial_index(
        "idx_depots_coverage_area", table_name="depots", postgresql_using="gist", column_name="coverage_area"
    )
    op.drop_geospatial_table("depots")
    op.drop_index(op.f("ix_customers_phone"), table_name="customers")
    op.drop_table("customers")
