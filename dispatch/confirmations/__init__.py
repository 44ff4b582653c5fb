"""The customer's confirmation that closes a job: the one-time link and the signed service-feedback form."""
