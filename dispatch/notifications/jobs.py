"""Worker jobs of the notifications package (registered on import by dispatch.worker)."""

from dispatch.notifications.customer import tell_late_customers
from dispatch.worker import Job, register

register(Job("customer_late_notices", tell_late_customers, every_seconds=60.0))
