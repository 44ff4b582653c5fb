"""Pure dispatch rules: no web, database or broker imports; `now` is always a parameter.

policy      Policy, load_policy, validate_policy, Grade, Category, Severity, PolicyError
conditions  the `when = {...}` vocabulary of grade rules and alarm mappings
grading     ComplaintFacts, grade_complaint, grade_with_policy, override_grade, repeat_facts, is_flapping
calendar    WorkingCalendar (is_working_day, add_working_days), require_aware
sla         compute_deadlines, regrade_deadlines, on_completion_deadlines, cannot_meet_notice_due_at,
            next_clock, promise_deadline
escalation  ladder_for, due_steps, next_step_at, at_risk, pre_breach_step
lifecycle   TicketState/TicketAction, transition, allowed_actions; VisitState/VisitAction, visit_transition
alarms      map_alarm, should_auto_resolve, opens_unreachable_ticket, heartbeat_overdue
sync, geo   order_events, sla_arrival_time; GeoPoint, haversine_m
"""
