"""Care rules: plan gates, the rolling concierge budget, SLA deadlines and breach alarms, staff."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.care import (
    CARE_WINDOW_S,
    ConciergeUsage,
    account_manager,
    check_contact,
    check_hours,
    check_request_text,
    concierge_usage,
    parse_staff_ids,
    parse_when,
    require_action,
    require_care,
    require_hours_left,
    require_staff,
    sla_alarm,
    sla_breaches,
    sla_due_at,
    sla_resolved_alarm,
)
from vectobeat_core.errors import InvalidInput, LimitExceeded, PermissionDenied
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier, default_catalogue
from vectobeat_core.records import ConciergeKind, ConciergeRequest, ConciergeStatus

CATALOGUE = default_catalogue()
NOW = 1_800_000_000.0


def request(
    request_id: int = 1,
    *,
    kind: ConciergeKind = "concierge",
    status: ConciergeStatus = "open",
    hours: float = 1.0,
    created_at: float = NOW,
    due_at: float = NOW + 60,
    resolved_at: float | None = None,
    alarmed: float | None = None,
    assignee: tuple[int, str] | None = None,
) -> ConciergeRequest:
    return ConciergeRequest(
        request_id=request_id,
        guild_id=GuildId(42),
        kind=kind,
        subject="Help with regions",
        body="",
        requested_by=UserId(7),
        status=status,
        created_at=created_at,
        due_at=due_at,
        resolved_at=resolved_at,
        hours=hours,
        sla_alarmed_at=alarmed,
        assignee_id=None if assignee is None else UserId(assignee[0]),
        assignee_name=None if assignee is None else assignee[1],
    )


@pytest.mark.parametrize("tier", list(Tier))
def test_plan_gates_name_the_lowest_plan(tier: Tier) -> None:
    plan = CATALOGUE.plan(tier)
    for kind, allowed, lowest in (
        ("concierge", plan.concierge, "Growth"),
        ("success_pod", plan.success_pod, "Scale"),
    ):
        if allowed:
            require_care(plan, kind, CATALOGUE)  # type: ignore[arg-type]
        else:
            with pytest.raises(LimitExceeded, match=f"the {lowest} plan and above"):
                require_care(plan, kind, CATALOGUE)  # type: ignore[arg-type]


@given(st.sampled_from([t for t in Tier if CATALOGUE.plan(t).concierge]), st.floats(0, 1e10))
def test_deadline_is_the_plans_sla_after_the_request(tier: Tier, created: float) -> None:
    plan = CATALOGUE.plan(tier)
    assert plan.sla_minutes is not None
    assert sla_due_at(plan, created) == created + plan.sla_minutes * 60


def test_a_plan_without_sla_has_no_deadline() -> None:
    with pytest.raises(InvalidInput, match="no support SLA"):
        sla_due_at(CATALOGUE.plan(Tier.FREE), NOW)


@given(
    st.floats(0, 3 * 86_400),
    st.floats(-86_400, 86_400),
    st.sampled_from(["open", "in_progress", "resolved"]),
)
def test_breached_exactly_when_unresolved_past_the_deadline_and_not_yet_alarmed(
    age: float, offset: float, status: ConciergeStatus
) -> None:
    item = request(status=status, due_at=NOW, resolved_at=NOW if status == "resolved" else None)
    now = NOW + offset
    assert (sla_breaches([item], now) == [item]) == (status != "resolved" and now > NOW)
    alarmed = request(status=status, due_at=NOW, alarmed=NOW)
    assert sla_breaches([alarmed], now + age) == []


def test_breach_alarm_names_request_guild_and_lateness() -> None:
    alarm = sla_alarm(request(7, due_at=NOW), NOW + 600)
    assert (alarm.key, alarm.status, alarm.severity) == ("sla:7", "trigger", "critical")
    assert "request #7 of guild 42 missed its SLA by 10 min (open)" in alarm.summary
    resolved = sla_resolved_alarm(request(7), NOW)
    assert (resolved.key, resolved.status) == ("sla:7", "resolve")


hours_list = st.lists(
    st.tuples(
        st.sampled_from(["concierge", "success_pod"]),
        st.sampled_from(["open", "in_progress", "resolved"]),
        st.integers(1, 40).map(lambda q: q / 4),
        st.floats(0, 60 * 86_400),
    ),
    max_size=12,
)


@given(hours_list)
def test_usage_counts_open_concierge_hours_and_those_resolved_in_the_window(
    items: list[tuple[ConciergeKind, ConciergeStatus, float, float]],
) -> None:
    plan = CATALOGUE.plan(Tier.SCALE)
    requests = [
        request(i, kind=k, status=s, hours=h, resolved_at=NOW - ago if s == "resolved" else None)
        for i, (k, s, h, ago) in enumerate(items)
    ]
    usage = concierge_usage(plan, requests, NOW)
    booked = sum(h for k, s, h, _ in items if k == "concierge" and s != "resolved")
    used = sum(
        h for k, s, h, ago in items if k == "concierge" and s == "resolved" and ago < CARE_WINDOW_S
    )
    assert (usage.budget, usage.booked, usage.used) == (plan.concierge_hours, booked, used)
    assert usage.remaining == max(0, plan.concierge_hours - used - booked)


@given(st.integers(0, 40).map(lambda q: q / 4), st.integers(1, 40).map(lambda q: q / 4))
def test_a_request_fits_exactly_when_its_hours_are_left(left: float, asked: float) -> None:
    usage = ConciergeUsage(10.0, 10.0 - left, 0.0)
    if asked <= left:
        require_hours_left(usage, asked)
    else:
        with pytest.raises(LimitExceeded, match=r"left|spent"):
            require_hours_left(usage, asked)


def test_spent_budget_says_so_with_the_numbers() -> None:
    with pytest.raises(LimitExceeded, match=r"hours are spent: 2 of 2 h used"):
        require_hours_left(ConciergeUsage(2, 2, 0), 0.25)


@pytest.mark.parametrize("bad", [0, -1, 0.1, 24.25, float("nan"), float("inf")])
def test_hours_are_quarter_hours_up_to_a_day(bad: float) -> None:
    with pytest.raises(InvalidInput, match="quarter hours"):
        check_hours(bad, "concierge")
    assert check_hours(1.75, "concierge") == 1.75
    assert check_hours(0, "success_pod") == 0


def test_request_text_is_trimmed_and_bounded() -> None:
    assert check_request_text(" Help ", " more ", " a@b.c ") == ("Help", "more", "a@b.c")
    for summary, details, contact in (
        ("", "", "x"),
        ("x" * 201, "", "x"),
        ("x", "y" * 2001, "x"),
        ("x", "", " "),
    ):
        with pytest.raises(InvalidInput):
            check_request_text(summary, details, contact)


def test_staff_are_the_configured_ids_only() -> None:
    staff = parse_staff_ids(" 123456789012345678 ,223456789012345678,")
    assert staff == {UserId(123456789012345678), UserId(223456789012345678)}
    require_staff(staff, UserId(123456789012345678))
    with pytest.raises(PermissionDenied, match="Only VectoBeat staff"):
        require_staff(staff, UserId(5))
    assert parse_staff_ids(None) == frozenset()
    with pytest.raises(InvalidInput):
        parse_staff_ids("abc")


def test_actions_on_resolved_or_acknowledged_requests_are_refused() -> None:
    require_action(request(status="open"), "acknowledge")
    with pytest.raises(InvalidInput, match="already acknowledged"):
        require_action(request(status="in_progress"), "acknowledge")
    with pytest.raises(InvalidInput, match="already resolved"):
        require_action(request(status="resolved"), "schedule")
    with pytest.raises(InvalidInput, match="Unknown action"):
        require_action(request(), "delete")


def test_schedule_times_are_utc_in_the_future() -> None:
    assert parse_when("2027-01-15 15:30", NOW) == 1_800_027_000.0
    assert parse_when("2027-01-15T15:30Z", NOW) == 1_800_027_000.0
    for bad in ("tomorrow", "2020-01-01 10:00", "2030-01-01 10:00"):
        with pytest.raises(InvalidInput):
            parse_when(bad, NOW)


def test_account_manager_is_the_latest_assigned_success_pod() -> None:
    assert account_manager([request(kind="concierge", assignee=(1, "Con"))]) is None
    found = account_manager(
        [
            request(1, kind="success_pod", created_at=NOW, assignee=(1, "Old")),
            request(2, kind="success_pod", created_at=NOW + 5, assignee=(2, "New")),
            request(3, kind="success_pod", created_at=NOW + 9),
        ]
    )
    assert found == (UserId(2), "New")


def test_contacts_need_a_name_and_an_email_and_maybe_a_phone() -> None:
    assert check_contact(" Ada ", "ada@example.org", "") == ("Ada", "ada@example.org", None)
    assert check_contact("Ada", "ada@example.org", "+44 20 7946 0000")[2] == "+44 20 7946 0000"
    for name, email, phone in (
        ("", "a@b.co", ""),
        ("Ada", "nope", ""),
        ("Ada", "a@b.co", "call me"),
    ):
        with pytest.raises(InvalidInput):
            check_contact(name, email, phone)
