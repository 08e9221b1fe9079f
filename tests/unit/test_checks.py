"""Check expansion on hand-built campaigns: audiences, one-off and recurring dues, variants."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from engine.checks import Expander, Obligation, obligations_for, obligations_of_all
from engine.dates import Deadlines, Period
from engine.model import (
    Audience,
    Campaign,
    Check,
    DateRef,
    Duration,
    PeriodDue,
    Phase,
    Role,
    Selector,
    Stricter,
)
from engine.orgs import Org, Unit
from engine.workdays import EveryDayCalendar, StatutoryCalendar

D = dt.date
CN = Deadlines(StatutoryCalendar())

CHEM = Unit("u-chem", "化工厂", "c1", "hazardous_chemicals")
MALL = Unit("u-mall", "商场", "c1", "other", frozenset({"mall"}))
SHOP = Unit("u-shop", "五金店", "c1", "other")
TOWN = Org("t1", "某镇", "town", "d1")
COMMUNITY = Org("c1", "某社区", "community", "t1")
DEPARTMENT = Org("dep", "应急局", "department", "d1")

MakeCampaign = Callable[..., Campaign]


def check(check_id: str = "c", **overrides: Any) -> Check:
    values: dict[str, Any] = {
        "id": check_id, "name": f"check {check_id}", "who": "principal",
        "audience": Audience("units"), "every": "quarter",
    }  # fmt: skip
    values.update(overrides)
    return Check(**values)


@pytest.fixture
def make_campaign() -> MakeCampaign:
    def make(*checks: Check, **overrides: Any) -> Campaign:
        values: dict[str, Any] = {
            "id": "hand-built",
            "title": "手工构造的专项行动",
            "period_start": D(2023, 5, 1),
            "period_end": D(2023, 12, 31),
            "roles": {
                "principal": Role("principal", "企业主要负责人", "unit"),
                "locality": Role("locality", "属地", "org"),
            },
            "selectors": {
                "high_risk": Selector("high_risk", industries=("hazardous_chemicals",)),
                "crowded": Selector("crowded", tags=("mall", "hotel")),
                "towns": Selector("towns", levels=("town",)),
                "ordinary": Selector("ordinary", negated="risky"),
                "risky": Selector("risky", any_of=("high_risk", "crowded")),
            },
            "phases": (
                Phase("mobilize", "动员部署", D(2023, 5, 20)),
                Phase("self_check", "自查自改", D(2023, 6, 30)),
            ),
            "checks": checks,
        }
        values.update(overrides)
        return Campaign(**values)

    return make


def dues(obligations: Iterator[Obligation]) -> list[tuple[str | None, dt.date]]:
    return [(o.period, o.due) for o in obligations]


# ── audiences ──────────────────────────────────────────────────────────────────────────────


def test_audiences_pick_units_and_orgs(make_campaign: MakeCampaign) -> None:
    one_off = {"every": None, "deadlines": (DateRef(date=D(2023, 6, 1)),)}
    campaign = make_campaign(
        check("all_units", **one_off),
        check("high_risk_only", audience=Audience("units", ("high_risk",)), **one_off),
        check("risky", audience=Audience("units", ("high_risk", "crowded")), **one_off),
        check("not_risky", audience=Audience("units", ("ordinary",)), **one_off),
        check("all_orgs", who="locality", audience=Audience("orgs"), **one_off),
        check("towns", who="locality", audience=Audience("orgs", levels=("town",)), **one_off),
        check("by_selector_on_orgs", audience=Audience("units", ("towns",)), **one_off),
    )

    def ids(subject: Unit | Org) -> list[str]:
        return [o.check for o in obligations_for(campaign, subject, CN)]

    assert ids(CHEM) == ["all_units", "high_risk_only", "risky"]
    assert ids(MALL) == ["all_units", "risky"]
    assert ids(SHOP) == ["all_units", "not_risky"]
    # a selector audience means units; orgs come in only through `orgs`
    assert ids(TOWN) == ["all_orgs", "towns"]
    assert ids(COMMUNITY) == ["all_orgs"]
    assert {o.subject_kind for o in obligations_for(campaign, TOWN, CN)} == {"org"}
    assert {o.subject_kind for o in obligations_for(campaign, CHEM, CN)} == {"unit"}


# ── one-off checks ─────────────────────────────────────────────────────────────────────────


def test_one_off_deadlines_roll_and_keep_the_written_date(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(
        check("phase_end", every=None, deadlines=(DateRef(phase="mobilize"),)),
        check("two_reports", every=None, report="dispatch",
              deadlines=(DateRef(date=D(2023, 8, 5)), DateRef(date=D(2023, 12, 20)))),
        check("after_phase", every=None,
              deadlines=(DateRef(phase="self_check", after=Duration(3, working=True)),)),
        check("not_rolled", every=None, deadlines=(DateRef(date=D(2023, 9, 30), roll=False),)),
    )  # fmt: skip
    got = [(o.check, o.due, o.nominal, o.rolled, o.period, o.first, o.report)
           for o in obligations_for(campaign, SHOP, CN)]  # fmt: skip
    assert got == [
        # 2023-05-20 is a Saturday: Monday 05-22
        ("phase_end", D(2023, 5, 22), D(2023, 5, 20), True, None, None, None),
        # 06-30 Friday + 3 working days: Mon 07-03, Tue 07-04, Wed 07-05
        ("after_phase", D(2023, 7, 5), D(2023, 7, 5), False, None, None, None),
        # 08-05 Saturday: Monday 08-07
        ("two_reports", D(2023, 8, 7), D(2023, 8, 5), True, None, None, "dispatch"),
        # `roll: false` on the deadline keeps the holiday date
        ("not_rolled", D(2023, 9, 30), D(2023, 9, 30), False, None, None, None),
        ("two_reports", D(2023, 12, 20), D(2023, 12, 20), False, None, None, "dispatch"),
    ]


# ── recurring checks ───────────────────────────────────────────────────────────────────────


def test_recurring_checks_cover_every_period_of_the_window(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(check("quarterly"))
    got = list(obligations_for(campaign, SHOP, CN))
    # May–Dec overlaps Q2, Q3, Q4; Q3 ends 09-30 in the National Day holiday, worked 10-07
    # (a make-up Saturday); Q4 ends on Sunday 12-31 and 01-01 is New Year: Tuesday 01-02
    assert dues(iter(got)) == [
        ("2023Q2", D(2023, 6, 30)), ("2023Q3", D(2023, 10, 7)), ("2023Q4", D(2024, 1, 2))]
    assert (got[0].first, got[0].last) == (D(2023, 4, 1), D(2023, 6, 30))
    assert [o.nominal for o in got] == [D(2023, 6, 30), D(2023, 9, 30), D(2023, 12, 31)]


def test_check_window_and_day_of_period(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(
        check("dispatch", every="month", period_due=PeriodDue(day=28), start=D(2023, 9, 1),
              end=D(2023, 11, 15)),
        check("last_month", every="month", period_due=PeriodDue(day=15, month="next"),
              start=D(2023, 11, 1)),
    )  # fmt: skip
    assert dues(obligations_for(campaign, SHOP, CN)) == [
        ("2023-09", D(2023, 9, 28)),
        ("2023-10", D(2023, 10, 30)),  # 10-28 Saturday, 10-29 Sunday
        ("2023-11", D(2023, 11, 28)),  # the window ends mid-November: November still counts
        ("2023-11", D(2023, 12, 15)),  # 每月15日前报上月
        ("2023-12", D(2024, 1, 15)),
    ]


def test_times_per_period(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(check("twice", every="month", times=2, start=D(2023, 12, 1)))
    assert [(o.period, o.times) for o in obligations_for(campaign, SHOP, CN)] == [("2023-12", 2)]


# ── stricter variants ──────────────────────────────────────────────────────────────────────


def test_first_matching_variant_replaces_every_times_and_due(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(
        check("inspection", start=D(2023, 10, 1), stricter=(
            Stricter(("high_risk",), every="month", times=2, due=PeriodDue(day=25)),
            Stricter(("crowded", "high_risk"), every="month"),
        )),
    )  # fmt: skip
    chem = list(obligations_for(campaign, CHEM, CN))
    assert [(o.period, o.due, o.times, o.variant) for o in chem] == [
        ("2023-10", D(2023, 10, 25), 2, "stricter: high_risk"),
        ("2023-11", D(2023, 11, 27), 2, "stricter: high_risk"),  # 11-25 Saturday
        ("2023-12", D(2023, 12, 25), 2, "stricter: high_risk"),
    ]
    mall = list(obligations_for(campaign, MALL, CN))
    assert [(o.period, o.due, o.times, o.variant) for o in mall] == [
        ("2023-10", D(2023, 10, 31), 1, "stricter: crowded"),
        ("2023-11", D(2023, 11, 30), 1, "stricter: crowded"),
        ("2023-12", D(2024, 1, 2), 1, "stricter: crowded"),
    ]
    shop = list(obligations_for(campaign, SHOP, CN))
    assert [(o.period, o.times, o.variant) for o in shop] == [("2023Q4", 1, None)]


def test_variant_label_names_every_matching_selector(make_campaign: MakeCampaign) -> None:
    both = Unit("u-both", "化工商场", "c1", "hazardous_chemicals", frozenset({"hotel"}))
    campaign = make_campaign(
        check("drill", every="year", stricter=(Stricter(("high_risk", "crowded"), "half_year"),))
    )
    assert {o.variant for o in obligations_for(campaign, both, CN)} == {
        "stricter: high_risk, crowded"}  # fmt: skip
    assert [o.period for o in obligations_for(campaign, MALL, CN)] == ["2023H1", "2023H2"]


def test_a_variant_keeps_the_check_due_when_it_still_fits(make_campaign: MakeCampaign) -> None:
    summary = PeriodDue(day=10, month=6)  # 每年6月10日和12月10日前
    campaign = make_campaign(
        check("summary", every="half_year", period_due=summary, start=D(2023, 7, 1),
              stricter=(Stricter(("high_risk",), every="quarter"),
                        Stricter(("crowded",), every="year"))),
        check("report", every="quarter", period_due=PeriodDue(day=28), start=D(2023, 10, 1),
              stricter=(Stricter(("high_risk",), every="month"),)),
        period_end=D(2024, 12, 31),
    )  # fmt: skip
    by_check: dict[str, list[tuple[str | None, dt.date]]] = {}
    for o in obligations_for(campaign, CHEM, Deadlines(EveryDayCalendar())):
        by_check.setdefault(o.check, []).append((o.period, o.due))
    # month 6 does not exist in a quarter: the quarter's last month, day 10
    assert by_check["summary"][:2] == [("2023Q3", D(2023, 9, 10)), ("2023Q4", D(2023, 12, 10))]
    # day 28 carries over to each month
    assert by_check["report"][:2] == [("2023-10", D(2023, 10, 28)), ("2023-11", D(2023, 11, 28))]
    mall = [(o.period, o.due) for o in obligations_for(campaign, MALL, CN) if o.check == "summary"]
    assert mall == [("2023", D(2023, 6, 12)), ("2024", D(2024, 6, 11))]  # 6-10 Sat / 端午


def test_org_variants_match_level_selectors(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(
        check("dispatch", who="locality", audience=Audience("orgs"), every="quarter",
              start=D(2023, 10, 1), stricter=(Stricter(("towns",), every="month"),)),
    )  # fmt: skip
    assert len(list(obligations_for(campaign, TOWN, CN))) == 3
    assert len(list(obligations_for(campaign, COMMUNITY, CN))) == 1


# ── the campaign's rules and the date filter ───────────────────────────────────────────────


def test_no_rolling_and_every_day_calendars(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(check("quarterly"), roll_to_working_day=False)
    unrolled = Deadlines.for_campaign(campaign)
    assert [o.due for o in obligations_for(campaign, SHOP, unrolled)] == [
        D(2023, 6, 30), D(2023, 9, 30), D(2023, 12, 31)]  # fmt: skip
    every_day = make_campaign(check("quarterly"), calendar="none")
    assert [o.due for o in obligations_for(every_day, SHOP, Deadlines.for_campaign(every_day))] == [
        D(2023, 6, 30), D(2023, 9, 30), D(2023, 12, 31)]  # fmt: skip


def test_start_and_end_bound_the_due_dates(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(check("monthly", every="month"))
    got = obligations_for(campaign, SHOP, CN, start=D(2023, 9, 1), end=D(2023, 10, 31))
    # August's is due 08-31, before the window; September's is due 10-07, inside it
    assert dues(got) == [("2023-09", D(2023, 10, 7)), ("2023-10", D(2023, 10, 31))]
    got = obligations_for(campaign, SHOP, CN, start=D(2023, 10, 7), end=D(2023, 10, 7))
    assert dues(got) == [("2023-09", D(2023, 10, 7))]


def test_a_campaign_in_a_year_nobody_covers_is_provisional_not_refused(
    make_campaign: MakeCampaign,
) -> None:
    campaign = make_campaign(check("q"), period_start=D(2099, 1, 1), period_end=D(2099, 12, 31))
    got = list(obligations_for(campaign, SHOP, Deadlines.for_campaign(campaign)))
    # the weekend rule: every quarter's last day 2099 is a Tuesday to Thursday
    assert [(o.due, o.provisional) for o in got] == [
        (D(2099, 3, 31), D(2099, 3, 31)), (D(2099, 6, 30), D(2099, 6, 30)),
        (D(2099, 9, 30), D(2099, 9, 30)), (D(2099, 12, 31), D(2099, 12, 31))]  # fmt: skip


def test_obligations_inside_the_known_years_are_not_provisional(
    make_campaign: MakeCampaign,
) -> None:
    campaign = make_campaign(check("q"))
    assert not any(o.provisional for o in obligations_for(campaign, SHOP, CN))


# ── ordering and many subjects ─────────────────────────────────────────────────────────────


def test_each_subject_is_sorted_by_due_then_check_order(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(
        check("b_monthly", every="month", start=D(2023, 12, 1)),
        check("a_one_off", every=None, deadlines=(DateRef(date=D(2023, 12, 31)),)),
        check("c_quarterly"),
    )
    got = [(o.due, o.check) for o in obligations_for(campaign, SHOP, CN)]
    assert got == sorted(got, key=lambda item: item[0])
    assert got[-3:] == [(D(2024, 1, 2), "b_monthly"), (D(2024, 1, 2), "a_one_off"),
                        (D(2024, 1, 2), "c_quarterly")]  # fmt: skip


def test_many_subjects_stream_lazily(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(check("q"))
    endless = (Unit(f"u{n}", f"单位{n}", "c1") for n in itertools.count())
    first = list(itertools.islice(obligations_of_all(campaign, endless, CN), 7))
    assert [o.subject for o in first] == ["u0"] * 3 + ["u1"] * 3 + ["u2"]


class CountingDeadlines(Deadlines):
    """Counts the deadlines computed, to show each schedule is computed once."""

    def __init__(self) -> None:
        super().__init__(StatutoryCalendar())
        self.computed = 0

    def in_period(self, period: Period, due: PeriodDue | None) -> dt.date:
        self.computed += 1
        return super().in_period(period, due)


def test_schedules_are_computed_once_for_any_number_of_subjects(
    make_campaign: MakeCampaign,
) -> None:
    campaign = make_campaign(
        check("q", stricter=(Stricter(("high_risk",), every="month"),)),
    )
    deadlines = CountingDeadlines()
    units = [Unit(f"u{n:04}", "x", "c1", "hazardous_chemicals" if n % 2 else None)
             for n in range(2000)]  # fmt: skip
    total = sum(1 for _ in obligations_of_all(campaign, units, deadlines))
    assert total == 1000 * 3 + 1000 * 8
    assert deadlines.computed == 3 + 8  # one schedule per variant, not per unit


def test_by_date_orders_orgs_then_units_by_id(make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(
        check("inspection", stricter=(Stricter(("high_risk",), every="month"),)),
        check("dispatch", who="locality", audience=Audience("orgs", levels=("town",)),
              every="month", period_due=PeriodDue(day="last")),
    )  # fmt: skip
    subjects: list[Unit | Org] = [SHOP, MALL, CHEM, COMMUNITY, TOWN]
    expander = Expander(campaign, CN)
    ordered = list(expander.by_date(subjects))
    keys = [(o.due, o.subject_kind != "org", o.subject) for o in ordered]
    assert keys == sorted(keys)
    # 5-31: the town's report, then the chemicals plant's inspection
    assert ordered[:2] == [o for o in ordered if o.due == D(2023, 5, 31)]
    assert [(o.subject, o.check) for o in ordered[:2]] == [("t1", "dispatch"),
                                                           ("u-chem", "inspection")]
    # the same obligations as subject by subject
    per_subject = [o for s in subjects for o in expander.for_subject(s)]
    assert sorted(ordered, key=repr) == sorted(per_subject, key=repr)
