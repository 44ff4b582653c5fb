"""customer portal: sign-in links, tracking links, customer photos, notice preferences; interim notices dropped

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 20:10:00.000000+00:00

Planned as 0004 → 0008; main meanwhile added 0010 on top of 0004, so this follows 0010 to keep one head.

`technician_notices` was the technician API's interim notice store; its notices now go through
`notifications` (in-app + outbound channels with retries), and nothing reads the old table any more.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column(
            "notice_channels",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("""'["sms", "email", "in_app"]'::jsonb"""),
            nullable=False,
        ),
    )
    op.add_column("sites", sa.Column("contact_email", sa.String(length=200), nullable=True))
    op.add_column("tickets", sa.Column("customer_late_notice_at", TZ, nullable=True))
    op.create_index("ix_customers_email", "customers", [sa.text("lower(email)")])
    # Sign-in requests compare phone digits only (stored numbers keep the dashes people typed).
    op.create_index("ix_customers_phone_digits", "customers", [sa.text("regexp_replace(phone, '[^0-9+]', '', 'g')")])
    op.create_index(
        "ix_sites_contact_phone_digits", "sites", [sa.text("regexp_replace(contact_phone, '[^0-9+]', '', 'g')")]
    )
    op.create_table(
        "portal_login_links",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_portal_login_links_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_login_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_login_links_token_hash")),
    )
    op.create_index(op.f("ix_portal_login_links_customer_id"), "portal_login_links", ["customer_id"])
    op.create_table(
        "portal_login_requests",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("contact_hash", sa.String(length=64), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("requested_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_login_requests")),
    )
    op.create_index(op.f("ix_portal_login_requests_contact_hash"), "portal_login_requests", ["contact_hash"])
    op.create_index(op.f("ix_portal_login_requests_client_address"), "portal_login_requests", ["client_address"])
    op.create_index(op.f("ix_portal_login_requests_requested_at"), "portal_login_requests", ["requested_at"])
    op.create_table(
        "ticket_tracking_links",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_tracking_links_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_tracking_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ticket_tracking_links_token_hash")),
    )
    op.create_index(op.f("ix_ticket_tracking_links_ticket_id"), "ticket_tracking_links", ["ticket_id"])
    op.create_table(
        "ticket_photos",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_photos_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_ticket_photos_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_photos")),
    )
    op.create_index(op.f("ix_ticket_photos_ticket_id"), "ticket_photos", ["ticket_id"])
    op.create_index(
        "ix_notifications_customer_inbox",
        "notifications",
        ["recipient"],
        postgresql_where=sa.text("channel = 'in_app' AND audience = 'customer'"),
    )
    # The interim store's rows move into the notification log (delivered in-app; their SMS never went out).
    op.execute(
        """
        INSERT INTO notifications (created_at, ticket_id, channel, audience, recipient, kind, subject, body,
                                   payload, status, attempts, delivered_at)
        SELECT created_at, ticket_id, 'in_app', audience, recipient, kind, subject, body,
               jsonb_build_object('migrated_from', 'technician_notices', 'channel', channel),
               'delivered', 0, created_at
        FROM technician_notices
        """
    )
    op.drop_index(op.f("ix_technician_notices_ticket_id"), table_name="technician_notices")
    op.drop_index(op.f("ix_technician_notices_audience"), table_name="technician_notices")
    op.drop_table("technician_notices")


def downgrade() -> None:
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
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_technician_notices_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_notices")),
    )
    op.create_index(op.f("ix_technician_notices_audience"), "technician_notices", ["audience"], unique=False)
    op.create_index(op.f("ix_technician_notices_ticket_id"), "technician_notices", ["ticket_id"], unique=False)
    op.drop_index("ix_notifications_customer_inbox", table_name="notifications")
    op.drop_index(op.f("ix_ticket_photos_ticket_id"), table_name="ticket_photos")
    op.drop_table("ticket_photos")
    op.drop_index(op.f("ix_ticket_tracking_links_ticket_id"), table_name="ticket_tracking_links")
    op.drop_table("ticket_tracking_links")
    op.drop_index(op.f("ix_portal_login_requests_requested_at"), table_name="portal_login_requests")
    op.drop_index(op.f("ix_portal_login_requests_client_address"), table_name="portal_login_requests")
    op.drop_index(op.f("ix_portal_login_requests_contact_hash"), table_name="portal_login_requests")
    op.drop_table("portal_login_requests")
    op.drop_index(op.f("ix_portal_login_links_customer_id"), table_name="portal_login_links")
    op.drop_table("portal_login_links")
    op.drop_index("ix_sites_contact_phone_digits", table_name="sites")
    op.drop_index("ix_customers_phone_digits", table_name="customers")
    op.drop_index("ix_customers_email", table_name="customers")
    op.drop_column("tickets", "customer_late_notice_at")
    op.drop_column("sites", "contact_email")
    op.drop_column("customers", "notice_channels")
