"""Plain-language reasons for a plan (issue 5, "Explanations").

Every planned visit says why this technician (skill match, ETA, slack to the deadline) and names
the best alternative technician with the ETA they could reach; every unassigned or late visit
names what blocks it. Alternatives are computed from the travel matrix (earliest arrival if the
technician were sent there straight from their route start), never by re-solving.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from routing.model import Vehicle
from routing.plan import Plan
from routing.problem import Problem, SolveParams, Visit
from routing.travel import TravelMatrix

__all__ = ["explain_plan", "fmt_duration", "fmt_time"]


def fmt_duration(seconds: float) -> str:
    """``2 h 40 min``, ``35 min``, ``1 d 3 h``."""
    minutes = max(0, math.ceil(seconds / 60 - 1e-9))
    d, rem = divmod(minutes, 24 * 60)
    h, m = divmod(rem, 60)
    if d:
        return f"{d} d {h} h" if h else f"{d} d"
    if h:
        return f"{h} h {m} min" if m else f"{h} h"
    return f"{m} min"


def fmt_time(when: datetime, now: datetime) -> str:
    """``14:00`` on the day of ``now``, else ``Tue 14:00`` (in ``now``'s time zone)."""
    local = when.astimezone(now.tzinfo)
    if local.date() == now.date():
        return local.strftime("%H:%M")
    return local.strftime("%a %d %b %H:%M")


def _skills_phrase(v: Visit) -> str:
    skills = sorted(v.required_skills)
    if not skills:
        return "technician"
    if len(skills) == 1:
        return f"technician with the {skills[0]} skill"
    return f"technician with the {', '.join(skills[:-1])} and {skills[-1]} skills"


def _earliest(problem: Problem, travel: TravelMatrix, vehicles: list[Vehicle], k: int, p: int) -> tuple[int, bool]:
    """Earliest service start of visit p by vehicle k sent straight from its start; fits the shift?"""
    v = problem.visits[p]
    veh = vehicles[k]
    arrive = veh.start_s + travel.seconds[k][len(vehicles) + p]
    earliest = max(0, problem.seconds(v.earliest_start)) if v.earliest_start else 0
    start = max(arrive, earliest)
    return start, start + math.ceil(v.service_minutes * 60) <= veh.end_s


def _names(problem: Problem) -> dict[str, str]:
    """How a technician is called in reasons: their name, or their id when the input has no name."""
    return {t.id: t.name or t.id for t in problem.technicians}


def explain_plan(
    problem: Problem, params: SolveParams, travel: TravelMatrix, vehicles: list[Vehicle], plan: Plan
) -> Plan:
    """Return ``plan`` with ``reasons`` for every visit and a precise reason for every unassigned one."""
    now = problem.now
    skills = {t.id: t.skills for t in problem.technicians}
    name = _names(problem)
    assigned = plan.assignments()
    load: dict[str, int] = {}
    for tech in assigned.values():
        load[tech] = load.get(tech, 0) + 1
    reasons: dict[str, tuple[str, ...]] = {}
    unassigned: list[tuple[str, str]] = []
    stop_of = {s.visit_id: s for r in plan.routes for s in r.stops}

    for p, v in enumerate(problem.visits):
        deadline_s = problem.seconds(v.deadline)
        due = fmt_time(v.deadline, now)
        skilled_techs = [t.id for t in problem.technicians if v.required_skills <= t.skills]
        options: list[tuple[int, bool, int]] = []  # (start_s, fits, vehicle)
        for k, veh in enumerate(vehicles):
            pinned_ok = v.pin_technician is None or veh.tech_id == v.pin_technician
            if pinned_ok and v.required_skills <= skills[veh.tech_id]:
                s, fits = _earliest(problem, travel, vehicles, k, p)
                options.append((s, fits, k))
        fitting = sorted(o for o in options if o[1])
        stop = stop_of.get(v.id)

        if stop is not None:
            tech = assigned[v.id]
            lines = []
            if v.committed:
                lines.append(f"accepted by {tech}: kept first on their route")
            elif v.pin_technician:
                lines.append(f"pinned to {name[tech]} by the dispatcher")
            if v.required_skills:
                lines.append(f"{name[tech]} has the required skills: {', '.join(sorted(v.required_skills))}")
            else:
                lines.append(f"{name[tech]} can do it (no special skill needed)")
            work = f"{fmt_time(stop.start, now)}–{fmt_time(stop.end, now)}"
            lines.append(f"ETA {fmt_time(stop.arrival, now)}, work {work}")
            if stop.late:
                lines.append(f"due {due}: {fmt_duration(stop.late_minutes * 60)} late")
                lines.append(_late_cause(problem, vehicles, v, fitting, deadline_s, due))
            else:
                lines.append(f"due {due}: {fmt_duration(stop.slack_minutes * 60)} to spare")
            alts = [o for o in fitting if vehicles[o[2]].tech_id != tech]
            if alts:
                s, _, k = alts[0]
                other = vehicles[k].tech_id
                lines.append(
                    f"best alternative: {name[other]}, earliest ETA {fmt_time(problem.at(s), now)} if sent first "
                    f"from their {vehicles[k].start_kind} ({load.get(other, 0)} other visits planned)"
                )
            else:
                lines.append("no alternative technician could do it")
            reasons[v.id] = tuple(lines)
            continue

        # ---- unassigned
        who = _skills_phrase(v)
        if not skilled_techs:
            reason = f"no {who} exists in this region"
        elif v.pin_technician and v.pin_technician not in skilled_techs:
            pinned = name.get(v.pin_technician, v.pin_technician)
            reason = f"pinned to {pinned}, who lacks the skills {', '.join(sorted(v.required_skills))}"
        elif not options:
            if v.pin_technician:
                pinned = name.get(v.pin_technician, v.pin_technician)
                reason = f"pinned to {pinned}, who has no shift left in the next {params.horizon_h:g} h"
            else:
                reason = f"no {who} is on shift in the next {params.horizon_h:g} h"
        elif not fitting:
            if all(vehicles[k].start_s > deadline_s for _, _, k in options):
                reason = f"no {who} is on shift before {due}, and the work does not fit in any later shift"
            else:
                reason = (
                    f"the {fmt_duration(v.service_minutes * 60)} of work does not fit in the remaining "
                    f"shift of any {who}"
                )
        else:
            s, _, k = fitting[0]
            if s > deadline_s:
                reason = (
                    f"earliest possible arrival {fmt_time(problem.at(s), now)} ({name[vehicles[k].tech_id]}), "
                    f"due {due}: {fmt_duration(s - deadline_s)} late; every {who} is booked with more "
                    "urgent work"
                )
            else:
                names = ", ".join(sorted({name[vehicles[k].tech_id] for _, _, k in fitting}))
                reason = f"every {who} ({names}) is fully booked with more urgent work"
        unassigned.append((v.id, reason))
        reasons[v.id] = (reason,)

    return replace(plan, unassigned=tuple(unassigned), reasons=reasons)


def _late_cause(
    problem: Problem,
    vehicles: list[Vehicle],
    v: Visit,
    fitting: list[tuple[int, bool, int]],
    deadline_s: int,
    due: str,
) -> str:
    now = problem.now
    who = _skills_phrase(v)
    if not fitting:
        return f"no {who} can reach it inside a shift before {due}"
    s, _, k = fitting[0]
    if s > deadline_s:
        if all(vehicles[kk].start_s > deadline_s for _, _, kk in fitting):
            return f"no {who} is on shift before {due}"
        return (
            f"earliest possible arrival {fmt_time(problem.at(s), now)} ({_names(problem)[vehicles[k].tech_id]}), "
            f"due {due}: "
            f"{fmt_duration(s - deadline_s)} late"
        )
    return (
        f"{_names(problem)[vehicles[k].tech_id]} could be there by {fmt_time(problem.at(s), now)}, "
        "but the technicians who could be on time are busy with more urgent work"
    )
