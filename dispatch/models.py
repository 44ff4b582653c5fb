"""Every ORM model, imported in one place so metadata (Alembic, tests) sees the whole schema."""

from dispatch.audit.models import AuditEntry
from dispatch.confirmations.models import Confirmation, ConfirmationLink
from dispatch.core.db import Base
from dispatch.customers.models import Customer, Equipment, EquipmentSiteMove, Site
from dispatch.devices.models import Alarm, AlarmFault, DeadLetter, Device, DeviceWatch
from dispatch.escalation.models import EscalationEvent, TicketEscalation
from dispatch.notifications.models import Notification
from dispatch.plans.models import Plan, ReplanRequest
from dispatch.portal.models import PortalLoginLink, PortalLoginRequest, PortalSession, TicketPhoto, TrackingLink
from dispatch.return_visits.models import ReturnVisitTask
from dispatch.roads.models import RoadEdge, RoadNetwork, RoadVertex
from dispatch.tickets.models import Ticket, TicketReport, Visit
from dispatch.users.models import AccountEvent, LoginFailure, RevokedToken, User
from dispatch.visits.models import JobEvent, JobPhoto, Part, WorkReport
from dispatch.workforce.models import Depot, Technician, TechnicianShift

__all__ = [
    "AccountEvent",
    "Alarm",
    "AlarmFault",
    "AuditEntry",
    "Base",
    "Confirmation",
    "ConfirmationLink",
    "Customer",
    "DeadLetter",
    "Depot",
    "Device",
    "DeviceWatch",
    "Equipment",
    "EquipmentSiteMove",
    "EscalationEvent",
    "JobEvent",
    "JobPhoto",
    "LoginFailure",
    "Notification",
    "Part",
    "Plan",
    "PortalLoginLink",
    "PortalLoginRequest",
    "PortalSession",
    "ReplanRequest",
    "ReturnVisitTask",
    "RevokedToken",
    "RoadEdge",
    "RoadNetwork",
    "RoadVertex",
    "Site",
    "Technician",
    "TechnicianShift",
    "Ticket",
    "TicketEscalation",
    "TicketPhoto",
    "TicketReport",
    "TrackingLink",
    "User",
    "Visit",
    "WorkReport",
]
