"""Whether a case may be opened under a campaign today: while it runs, or later when it is
recorded late — found on a day of the campaign's period (a hazard found in December, entered in
January). One rule for the API, the demo and `paicha simulate`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine import texts
from engine.errors import CampaignEnded, InputInvalid
from engine.model import Campaign, CaseType

FOUND_ON = "found_on"


def parse_found_on(raw: Any) -> dt.date | None:
    """A `found_on` value as a date (None when absent or not a date: the case type's field
    schema says what is wrong with it)."""
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw[:10])
        except ValueError:
            return None
    return None


def found_on_of(case_type: CaseType, data: Mapping[str, Any],
                given: dt.date | None) -> dt.date | None:
    """The day the case was found: the one given with the request, else the case's own
    `found_on` field (发现日期) when its type declares one."""
    if given is not None:
        return given
    return parse_found_on(data.get(FOUND_ON)) if FOUND_ON in case_type.fields else None


def check_found_on(campaign: Campaign, found_on: dt.date, today: dt.date) -> None:
    """A `found_on` given with a request is a real day of the campaign: not in the future,
    not before the campaign started."""
    if found_on > today:
        raise InputInvalid(texts.t("errors.found_on.future", found_on=found_on, today=today),
                           code="bad_found_on")
    if found_on < campaign.period_start:
        raise InputInvalid(texts.t("errors.found_on.before_start", found_on=found_on,
                                   campaign=campaign.id, start=campaign.period_start),
                           code="bad_found_on")


def check_open(campaign: Campaign, *, today: dt.date, found_on: dt.date | None) -> None:
    """Refuse (CampaignEnded) a case opened after the campaign's end unless it was found on a
    day of its period."""
    if today <= campaign.period_end:
        return
    if found_on is not None and campaign.period_start <= found_on <= campaign.period_end:
        return
    raise CampaignEnded(campaign.id, campaign.period_end, found_on)


def recorded_late(campaign: Campaign, case_type: CaseType, data: Mapping[str, Any],
                  found_on: dt.date | None, today: dt.date) -> Mapping[str, Any]:
    """The case's data once the campaign's period allows opening it today; a `found_on` given
    with the request fills the type's own 发现日期 field when it has one."""
    if found_on is not None:
        check_found_on(campaign, found_on, today)
        known = parse_found_on(data.get(FOUND_ON))
        if FOUND_ON in case_type.fields:
            if known is not None and known != found_on:
                raise InputInvalid(texts.t("errors.found_on.differs", found_on=found_on,
                                           known=known), code="bad_found_on")
            data = {**data, FOUND_ON: found_on.isoformat()}
    check_open(campaign, today=today, found_on=found_on_of(case_type, data, found_on))
    return data
