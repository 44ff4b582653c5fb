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
from typing import Any

from routing.model import Vehicle, home_legs
from routing.plan import Plan
from routing.problem import Problem, SolveParams, Visit
from routing.travel import TravelMatrix

__all__ = ["explain_plan", "fmt_duration", "fmt_time"]


class _Lines:
    """Reason lines in English and, alongside, as (code, values) for callers that write other languages."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.codes: list[tuple[str, dict[str, Any]]] = []

    def say(self, code: str, text: str, **values: Any) -> str:
        self.texts.append(text)
        self.codes.append((code, values))
        return text


def _iso(when: datetime) -> str:
    return when.isoformat()


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


def _earliest(
    problem: Problem, travel: TravelMatrix, vehicles: list[Vehicle], k: int, p: int, home: int | None = None
) -> tuple[int, bool]:
    """Earliest service start of visit p by vehicle k sent straight from its start; fits the shift (with the
    drive home to matrix row ``home`` when the day ends there)?"""
    v = problem.visits[p]
    veh = vehicles[k]
    vl = len(vehicles) + p
    arrive = veh.start_s + travel.seconds[k][vl]
    earliest = max(0, problem.seconds(v.earliest_start)) if v.earliest_start else 0
    start = max(arrive, earliest)
    back = travel.seconds[vl][home] if home is not None else 0
    return start, start + v.service_s + back <= veh.end_s


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
    codes: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {}
    unassigned: list[tuple[str, str]] = []
    stop_of = {s.visit_id: s for r in plan.routes for s in r.stops}
    homes = home_legs(vehicles, len(problem.visits))

    for p, v in enumerate(problem.visits):
        deadline_s = problem.seconds(v.deadline)
        due = fmt_time(v.deadline, now)
        skilled_techs = [t.id for t in problem.technicians if v.required_skills <= t.skills]
        # Every skilled technician's earliest start, whatever the pin: what "an alternative" and "nobody is on
        # shift" are true of. `options` are the ones the visit may go to (its pinned technician's, when pinned).
        # A van that cannot carry the visit's load is no option; the drive home must fit in the shift too.
        skilled_options: list[tuple[int, bool, int]] = []  # (start_s, fits, vehicle)
        too_small = 0  # vans of skilled (and, if pinned, the pinned) technicians that cannot carry the load
        for k, veh in enumerate(vehicles):
            if v.required_skills <= skills[veh.tech_id]:
                if v.load and veh.capacity is not None and v.load > veh.capacity:
                    too_small += v.pin_technician is None or veh.tech_id == v.pin_technician
                    continue
                s, fits = _earliest(problem, travel, vehicles, k, p, homes[k])
                skilled_options.append((s, fits, k))
        options = [o for o in skilled_options if v.pin_technician is None or vehicles[o[2]].tech_id == v.pin_technician]
        fitting = sorted(o for o in options if o[1])
        skilled_fitting = sorted(o for o in skilled_options if o[1])
        stop = stop_of.get(v.id)

        needed = sorted(v.required_skills)
        due_at = _iso(v.deadline)
        out = _Lines()
        if stop is not None:
            tech = assigned[v.id]
            if v.committed:
                out.say("accepted", f"accepted by {tech}: kept first on their route", name=name[tech])
            elif v.pin_technician:
                out.say("pinned", f"pinned to {name[tech]} by the dispatcher", name=name[tech])
            if v.required_skills:
                out.say(
                    "has-skills",
                    f"{name[tech]} has the required skills: {', '.join(needed)}",
                    name=name[tech],
                    skills=needed,
                )
            else:
                out.say("no-skill-needed", f"{name[tech]} can do it (no special skill needed)", name=name[tech])
            work = f"{fmt_time(stop.start, now)}–{fmt_time(stop.end, now)}"
            out.say(
                "eta",
                f"ETA {fmt_time(stop.arrival, now)}, work {work}",
                eta_at=_iso(stop.arrival),
                start_at=_iso(stop.start),
                end_at=_iso(stop.end),
            )
            if stop.late:
                late_s = stop.late_minutes * 60
                out.say("late", f"due {due}: {fmt_duration(late_s)} late", due_at=due_at, late_s=late_s)
                _late_cause(problem, vehicles, v, skilled_options, skilled_fitting, deadline_s, due, out)
            else:
                spare_s = stop.slack_minutes * 60
                out.say("spare", f"due {due}: {fmt_duration(spare_s)} to spare", due_at=due_at, spare_s=spare_s)
            alts = [o for o in skilled_fitting if vehicles[o[2]].tech_id != tech]
            if alts:
                s, _, k = alts[0]
                other = vehicles[k].tech_id
                out.say(
                    "alternative",
                    f"best alternative: {name[other]}, earliest ETA {fmt_time(problem.at(s), now)} if sent first "
                    f"from their {vehicles[k].start_kind} ({load.get(other, 0)} other visits planned)",
                    name=name[other],
                    eta_at=_iso(problem.at(s)),
                    start_kind=vehicles[k].start_kind,
                    visits=load.get(other, 0),
                )
            elif any(vehicles[k].tech_id != tech for _, _, k in skilled_options):
                out.say(
                    "no-alternative-fits",
                    "the other technicians with the skills have no room for it in their shifts",
                    skills=needed,
                )
            else:
                out.say("no-alternative", "no alternative technician could do it")
            reasons[v.id] = tuple(out.texts)
            codes[v.id] = tuple(out.codes)
            continue

        # ---- unassigned
        who = _skills_phrase(v)
        if not skilled_techs:
            reason = out.say("no-such-technician", f"no {who} exists in this region", skills=needed)
        elif v.pin_technician and v.pin_technician not in skilled_techs:
            pinned = name.get(v.pin_technician, v.pin_technician)
            reason = out.say(
                "pinned-lacks-skills",
                f"pinned to {pinned}, who lacks the skills {', '.join(needed)}",
                name=pinned,
                skills=needed,
            )
        elif not options and too_small:
            reason = out.say(
                "too-heavy",
                f"it needs {v.load} units of load: more than the van of any {who} on shift carries",
                load=v.load,
                skills=needed,
            )
        elif not options:
            if v.pin_technician:
                pinned = name.get(v.pin_technician, v.pin_technician)
                reason = out.say(
                    "pinned-no-shift",
                    f"pinned to {pinned}, who has no shift left in the next {params.horizon_h:g} h",
                    name=pinned,
                    hours=params.horizon_h,
                )
            else:
                reason = out.say(
                    "no-shift",
                    f"no {who} is on shift in the next {params.horizon_h:g} h",
                    skills=needed,
                    hours=params.horizon_h,
                )
        elif not fitting:
            if all(vehicles[k].start_s > deadline_s for _, _, k in skilled_options):
                reason = out.say(
                    "no-shift-before-due",
                    f"no {who} is on shift before {due}, and the work does not fit in any later shift",
                    skills=needed,
                    due_at=due_at,
                )
            elif any(_earliest(problem, travel, vehicles, k, p)[1] for _, _, k in options):
                reason = out.say(
                    "no-time-to-drive-home",
                    f"the {fmt_duration(v.service_s)} of work and the drive home do not fit in the remaining "
                    f"shift of any {who}",
                    skills=needed,
                    work_s=v.service_s,
                )
            else:
                reason = out.say(
                    "work-does-not-fit",
                    f"the {fmt_duration(v.service_minutes * 60)} of work does not fit in the remaining "
                    f"shift of any {who}",
                    skills=needed,
                    work_s=v.service_minutes * 60,
                )
        else:
            s, _, k = fitting[0]
            if s > deadline_s:
                reason = out.say(
                    "earliest-late",
                    f"earliest possible arrival {fmt_time(problem.at(s), now)} ({name[vehicles[k].tech_id]}), "
                    f"due {due}: {fmt_duration(s - deadline_s)} late; every {who} is booked with more "
                    "urgent work",
                    eta_at=_iso(problem.at(s)),
                    name=name[vehicles[k].tech_id],
                    due_at=due_at,
                    late_s=s - deadline_s,
                    skills=needed,
                )
            else:
                names = sorted({name[vehicles[k].tech_id] for _, _, k in fitting})
                reason = out.say(
                    "fully-booked",
                    f"every {who} ({', '.join(names)}) is fully booked with more urgent work",
                    skills=needed,
                    names=names,
                )
        unassigned.append((v.id, reason))
        reasons[v.id] = (reason,)
        codes[v.id] = tuple(out.codes)

    return replace(plan, unassigned=tuple(unassigned), reasons=reasons, reason_codes=codes)


def _late_cause(
    problem: Problem,
    vehicles: list[Vehicle],
    v: Visit,
    options: list[tuple[int, bool, int]],
    fitting: list[tuple[int, bool, int]],
    deadline_s: int,
    due: str,
    out: _Lines,
) -> str:
    """Why a planned visit is late, true of every technician with the skills (`options`, `fitting`: their earliest
    starts, whether the work fits their shift), not only of the one it is pinned or committed to."""
    now = problem.now
    who = _skills_phrase(v)
    skills = sorted(v.required_skills)
    due_at = _iso(v.deadline)
    if not fitting:
        return out.say(
            "late.unreachable", f"no {who} can reach it inside a shift before {due}", skills=skills, due_at=due_at
        )
    s, _, k = fitting[0]
    if s > deadline_s:
        if all(vehicles[kk].start_s > deadline_s for _, _, kk in options):
            return out.say("late.no-shift", f"no {who} is on shift before {due}", skills=skills, due_at=due_at)
        return out.say(
            "late.earliest",
            f"earliest possible arrival {fmt_time(problem.at(s), now)} ({_names(problem)[vehicles[k].tech_id]}), "
            f"due {due}: "
            f"{fmt_duration(s - deadline_s)} late",
            eta_at=_iso(problem.at(s)),
            name=_names(problem)[vehicles[k].tech_id],
            due_at=due_at,
            late_s=s - deadline_s,
        )
    keeper = v.pin_technician
    if keeper is not None and vehicles[k].tech_id != keeper:
        # The pin (a dispatcher's, or the technician's acceptance) is what makes it late, not a lack of people.
        names = _names(problem)
        return out.say(
            "late.pinned",
            f"kept with {names.get(keeper, keeper)} (pinned or accepted); {names[vehicles[k].tech_id]} could be there "
            f"by {fmt_time(problem.at(s), now)}",
            pinned=names.get(keeper, keeper),
            name=names[vehicles[k].tech_id],
            eta_at=_iso(problem.at(s)),
        )
    return out.say(
        "late.others-busy",
        f"{_names(problem)[vehicles[k].tech_id]} could be there by {fmt_time(problem.at(s), now)}, "
        "but the technicians who could be on time are busy with more urgent work",
        name=_names(problem)[vehicles[k].tech_id],
        eta_at=_iso(problem.at(s)),
    )
