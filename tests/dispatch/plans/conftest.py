"""The planning tests' fast policy and client, for every module here."""

from tests.dispatch.plans.test_planning import fast, fast_client  # noqa: F401  (fixtures)
