"""Worker jobs of the notifications package (registered on import by dispatch.worker)."""

from dispatch.notifications.customer import tell_late_customers
from dispatch.notifications.service import deliver_pending
from dispatch.worker import Job, register

# Every queued notification (escalation steps, customer notices) goes out through its channel.
register(Job("notifications", deliver_pending, every_seconds=2.0))
register(Job("customer_late_notices", tell_late_customers, every_seconds=60.0))
