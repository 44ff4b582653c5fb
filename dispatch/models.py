"""Every ORM model, imported in one place so metadata (Alembic, tests) sees the whole schema."""

from dispatch.audit import service as _audit_guard  # noqa: F401  (installs the audit flush guard)
from dispatch.audit.models import AuditEntry
from dispatch.core.db import Base
from dispatch.customers.models import Customer, Equipment, EquipmentSiteMove, Site
from dispatch.devices.models import Alarm
from dispatch.tickets.models import Ticket, Visit
from dispatch.users.models import User
from dispatch.workforce.models import Depot, Technician, TechnicianShift
from technician_api.confirmation.models import Confirmation, ConfirmationLink
from technician_api.jobs.models import JobPhoto, Part, ReturnVisitTask, TechnicianNotice, WorkReport
from technician_api.sync.models import JobEvent

__all__ = [
    "Alarm",
    "AuditEntry",
    "Base",
    "Confirmation",
    "ConfirmationLink",
    "Customer",
    "Depot",
    "Equipment",
    "EquipmentSiteMove",
    "JobEvent",
    "JobPhoto",
    "Part",
    "ReturnVisitTask",
    "Site",
    "Technician",
    "TechnicianNotice",
    "TechnicianShift",
    "Ticket",
    "User",
    "Visit",
    "WorkReport",
]
