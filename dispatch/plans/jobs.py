"""Worker jobs of the planning package (registered on import by dispatch.worker)."""

from dispatch.plans.service import run_drafts, run_live_replan
from dispatch.worker import Job, register

register(Job("replan", run_live_replan, every_seconds=0.5))
register(Job("drafts", run_drafts, every_seconds=1.0))
