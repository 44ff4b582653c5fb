"""Worker jobs of the escalation package (registered on import by dispatch.worker)."""

from dispatch.escalation.service import run_due_escalations
from dispatch.worker import Job, register

register(Job("escalation", run_due_escalations, every_seconds=1.0))
