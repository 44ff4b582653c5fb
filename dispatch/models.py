"""Every ORM model, imported in one place so metadata (Alembic, tests) sees the whole schema."""

from dispatch import events as _change_events  # noqa: F401  (installs the commit-time change events)
from dispatch.audit import service as _audit_guard  # noqa: F401  (installs the audit flush guard)
from dispatch.audit.models import AuditEntry
from dispatch.core.db import Base
from dispatch.customers.models import Customer, Equipment, EquipmentSiteMove, Site
from dispatch.devices.models import Alarm, AlarmFault, DeadLetter, Device, DeviceWatch
from dispatch.escalation.models import EscalationEvent, TicketEscalation
from dispatch.notifications.models import Notification
from dispatch.plans.models import Plan, ReplanRequest
from dispatch.tickets.models import Ticket, TicketReport, Visit
from dispatch.users.models import User
from dispatch.workforce.models import Depot, Technician, TechnicianShift

__all__ = [
    "Alarm",
    "AlarmFault",
    "AuditEntry",
    "Base",
    "Customer",
    "DeadLetter",
    "Depot",
    "Device",
    "DeviceWatch",
    "Equipment",
    "EquipmentSiteMove",
    "EscalationEvent",
    "Notification",
    "Plan",
    "ReplanRequest",
    "Site",
    "Technician",
    "TechnicianShift",
    "Ticket",
    "TicketEscalation",
    "TicketReport",
    "User",
    "Visit",
]
