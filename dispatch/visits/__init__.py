"""What a technician's visit records: the work report, its photos, the parts used and the event log.

The visit itself is a ticket's (`dispatch.tickets.models.Visit`); these are what it leaves behind.
"""
