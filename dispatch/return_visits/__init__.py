"""The return visit: the call to the customer owed after completion (domain.md, within 2 working days)."""
