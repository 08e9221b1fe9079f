"""The tables: orgs, units, campaign versions and deployments, cases, obligations, audit log,
timers, tokens, idempotency records and the calendar years offices added.

Org subtrees are served by a materialized path (`/district/street/community/`) kept on orgs,
units, cases and obligations, so that "everything under this org" is one indexed prefix scan.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, bytewise_text, json_type, path_type


def _utc() -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=False))


def _utc_optional(*, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=index))


def _path() -> Any:
    return Field(sa_column=Column(path_type(), nullable=False, index=True))


def _json(default: Any) -> Any:
    return Field(default_factory=lambda: type(default)(default),
                 sa_column=Column(json_type(), nullable=False))


class Org(SQLModel, table=True):
    """A node of the administrative tree (区/镇/街道/社区, 部门)."""

    __tablename__ = "org"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    level: str = Field(max_length=64)
    parent_id: str | None = Field(default=None, foreign_key="org.id", index=True, max_length=64)
    path: str = _path()
    version: int = 1
    created_at: dt.datetime = _utc()
    updated_at: dt.datetime = _utc()


class Unit(SQLModel, table=True):
    """An enterprise or venue (生产经营单位) under an org."""

    __tablename__ = "unit"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    org_id: str = Field(foreign_key="org.id", index=True, max_length=64)
    org_path: str = _path()
    industry: str | None = Field(default=None, max_length=64)
    tags: list[str] = _json([])
    version: int = 1
    created_at: dt.datetime = _utc()
    updated_at: dt.datetime = _utc()


class CampaignVersion(SQLModel, table=True):
    """A published, immutable campaign version: its text, the parent version it was resolved
    against, and its hash."""

    __tablename__ = "campaign_version"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True, max_length=64)
    number: int
    title: str = Field(max_length=500)
    source: str = Field(max_length=500)
    text: str
    sha256: str = Field(max_length=64)
    parent_version_id: int | None = Field(default=None, foreign_key="campaign_version.id")
    published_at: dt.datetime = _utc()
    published_by: str = Field(max_length=200)
    # The org whose safety office published the campaign's first version; every version
    # carries it. None for campaigns an admin or `paicha serve` published: only an admin may
    # publish their next versions (storage.campaigns.may_publish says who may).
    owner_org_id: str | None = Field(default=None, max_length=64)


class Deployment(SQLModel, table=True):
    """A campaign runs in an org's subtree: its units' cases and obligations belong to it."""

    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("campaign_id", "org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(index=True, max_length=64)
    org_id: str = Field(foreign_key="org.id", max_length=64)
    org_path: str = _path()
    created_at: dt.datetime = _utc()


class Case(SQLModel, table=True):
    """A hazard (or another case type) on the campaign version it was opened under."""

    __tablename__ = "case_record"
    __table_args__ = (
        Index("ix_case_campaign_type_state", "campaign_id", "type", "state"),
        Index("ix_case_opened", "opened_at", "id"),
        Index("ix_case_found_by", "found_by_path",
              sqlite_where=text("found_by_path IS NOT NULL"),
              postgresql_where=text("found_by_path IS NOT NULL")),
    )

    id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(max_length=64)
    campaign_version_id: int = Field(foreign_key="campaign_version.id", index=True)
    type: str = Field(max_length=64)
    unit_id: str = Field(foreign_key="unit.id", index=True, max_length=64)
    org_path: str = _path()
    state: str = Field(max_length=64)
    final: bool = False
    data: dict[str, Any] = _json({})
    signatures: list[dict[str, Any]] = _json([])
    # clock id -> {"due": ISO date, "gen": times armed} while running; `next_due` is the earliest
    # due date, so that "overdue" and "due between" are indexed facts rather than extra states.
    clocks: dict[str, Any] = _json({})
    next_due: dt.date | None = Field(default=None, index=True)
    version: int = 1
    opened_by: str = Field(max_length=200)
    opened_at: dt.datetime = _utc()
    updated_at: dt.datetime = _utc()
    # The head of the case's audit stream (`case:<id>`), kept on the row every event writes
    # anyway (other streams keep theirs in audit_head): its version guard guards the chain too.
    audit_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    audit_hash: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    audit_mac: str | None = Field(default=None, max_length=64)  # the head's signature
    # the org whose member registered the case (an org token's org; None for a unit's or an
    # admin's): a report row `attribute: finder` counts the case for it (条), not for the
    # subtree the unit lies in (块)
    found_by_path: str | None = Field(default=None, sa_column=Column(path_type(), nullable=True))
    # the unit's industry and tags as registered when the case was opened ({"industry": …,
    # "tags": […]}): conditions on the unit (`when: {unit: …}`) are judged by these for the
    # case's whole life, so re-tagging the unit mid-case cannot change which signatures its
    # chain needs (storage.cases.case_unit). Null only for a row some tool inserted directly.
    unit_terms: dict[str, Any] | None = Field(default=None,
                                              sa_column=Column(json_type(), nullable=True))


class CaseHistory(SQLModel, table=True):
    """A case as it was before a change: written by the database itself (a trigger on
    case_record, storage.case_history) whenever an event gives the case a new version, so no
    writer can forget it. The version held `valid_from` <= t < `valid_to`; the case row holds
    the version since its `updated_at`. Reports for a past date read the versions then valid.
    """

    __tablename__ = "case_history"
    __table_args__ = (
        # "versions that were still valid at t": the ones replaced after t, few for a recent t
        Index("ix_case_history_campaign_valid_to", "campaign_id", "valid_to"),
        Index("ix_case_history_case", "case_id", "version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=64)
    version: int
    campaign_id: str = Field(max_length=64)
    type: str = Field(max_length=64)
    unit_id: str = Field(max_length=64)
    org_path: str = Field(sa_column=Column(path_type(), nullable=False))
    found_by_path: str | None = Field(default=None, sa_column=Column(path_type(), nullable=True))
    state: str = Field(max_length=64)
    final: bool = False
    data: dict[str, Any] = _json({})
    next_due: dt.date | None = None
    opened_at: dt.datetime = _utc()
    valid_from: dt.datetime = _utc()
    valid_to: dt.datetime = _utc()


class Obligation(SQLModel, table=True):
    """One dated duty of a role for a unit or an org, expanded from a check when the campaign is
    deployed or the subject is added."""

    __tablename__ = "obligation"
    __table_args__ = (
        UniqueConstraint("campaign_id", "check_id", "subject_id", "due", "period"),
        Index("ix_obligation_subject_due", "subject_id", "due"),
        Index("ix_obligation_path_due", "org_path", "due"),
        Index("ix_obligation_due", "due"),
        # the few obligations whose deadline rests on a year nobody covered yet (recomputed
        # when it is added)
        Index("ix_obligation_provisional", "provisional_day",
              sqlite_where=text("provisional_day IS NOT NULL"),
              postgresql_where=text("provisional_day IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(max_length=64)
    campaign_version_id: int = Field(foreign_key="campaign_version.id")
    check_id: str = Field(max_length=64)
    name: str = Field(max_length=500)
    role: str = Field(max_length=64)
    subject_kind: str = Field(max_length=8)
    subject_id: str = Field(max_length=64)
    org_path: str = Field(sa_column=Column(path_type(), nullable=False))
    period: str = Field(default="", max_length=16)
    due: dt.date
    times: int = 1
    done: int = 0
    variant: str | None = Field(default=None, max_length=200)
    report: str | None = Field(default=None, max_length=64)
    completed_at: dt.datetime | None = _utc_optional()
    # the first day of a year no statutory schedule covered that `due` was counted over (by
    # the weekend rule): the deadline is provisional until that year is added
    provisional_day: dt.date | None = None


class ReportSubmission(SQLModel, table=True):
    """An org's report for a period as submitted: the computed figures frozen with the manual
    ones it entered. A resubmission is a new row naming the one it replaces; none is removed."""

    __tablename__ = "report_submission"
    __table_args__ = (
        Index("ix_submission_period_path", "campaign_id", "report_id", "period", "org_path"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(max_length=64)
    campaign_version_id: int = Field(foreign_key="campaign_version.id")
    report_id: str = Field(max_length=64)
    org_id: str = Field(foreign_key="org.id", max_length=64)
    org_path: str = Field(sa_column=Column(path_type(), nullable=False))
    period: str = Field(max_length=16)
    as_of: dt.date
    figures: dict[str, Any] = _json({})  # every figure by key, computed and manual
    manual: dict[str, Any] = _json({})  # the keys the org entered
    submitted_by: str = Field(max_length=200)
    submitted_at: dt.datetime = _utc()
    late: bool = False
    obligation_id: int | None = Field(default=None, foreign_key="obligation.id")
    replaces: int | None = Field(default=None, foreign_key="report_submission.id")


class Completion(SQLModel, table=True):
    """One completion of an obligation with its evidence."""

    __tablename__ = "completion"

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int = Field(foreign_key="obligation.id", index=True)
    actor: str = Field(max_length=200)
    role: str = Field(max_length=64)
    at: dt.datetime = _utc()
    evidence: dict[str, Any] = _json({})


class AuditEntry(SQLModel, table=True):
    """An append-only log entry, chained by hashes within its stream (one stream per case, org,
    unit or campaign), so that a changed or removed entry is detectable."""

    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("stream", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=100)
    seq: int
    at: dt.datetime = _utc()
    actor: str = Field(max_length=200)
    role: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] = _json({})
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # HMAC of `hash` with the audit key (storage.audit_key); None when written without a key
    mac: str | None = Field(default=None, max_length=64)


class AuditHead(SQLModel, table=True):
    """The last hash of every stream but the cases' (theirs is on the case row): removing a
    stream's newest entries breaks the match."""

    __tablename__ = "audit_head"

    stream: str = Field(primary_key=True, max_length=100)
    seq: int
    hash: str = Field(max_length=64)
    mac: str | None = Field(default=None, max_length=64)  # the head's signature


class AuditSeal(SQLModel, table=True):
    """The audit log was sealed: every entry and head signed with the key named here, and from
    then on an unsigned one is a break. One row at most."""

    __tablename__ = "audit_seal"

    # always 1: a second seal, with another key, cannot go in
    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    fingerprint: str = Field(max_length=64)
    sealed_at: dt.datetime = _utc()
    sealed_by: str = Field(max_length=200)


class Timer(SQLModel, table=True):
    """A moment at which something needs attention; the sweep claims due ones in batches."""

    __tablename__ = "timer"
    __table_args__ = (
        Index("ix_timer_pending_due", "due_at", "id",
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
        Index("ix_timer_unit_due", "unit_id", "due_at"),  # a unit's upcoming deadlines
        # watches (status 'watch'): provisional clocks and phase deadlines waiting for a year's
        # schedule, by the first day of it they need (deadlines.recompute)
        Index("ix_timer_watch", "due_date", "id",
              sqlite_where=text("status = 'watch'"),
              postgresql_where=text("status = 'watch'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    # a case timer's key starts with its case and clock (storage.timers.CANCEL finds them so)
    key: str = Field(sa_column=Column(bytewise_text(300), unique=True, nullable=False))
    subject: str = Field(max_length=100)  # a case id, or obligation:<id>, phase:<campaign>/<id>
    clock_id: str = Field(default="", max_length=64)
    kind: str = Field(max_length=32)
    campaign_id: str = Field(default="", max_length=64)
    # where the deadline belongs and whose it is, for "upcoming deadlines" by org, unit, role
    org_path: str = Field(default="/", sa_column=Column(path_type(), nullable=False,
                                                        server_default="/"))
    unit_id: str | None = Field(default=None, max_length=64)
    roles: list[str] = _json([])
    due_date: dt.date | None = None
    due_at: dt.datetime = _utc()
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    lease_until: dt.datetime | None = _utc_optional()
    payload: dict[str, Any] = _json({})
    handled_at: dt.datetime | None = _utc_optional()


class Token(SQLModel, table=True):
    """A bearer token: roles within one org's subtree or one unit; only its hash is stored."""

    __tablename__ = "token"

    id: int | None = Field(default=None, primary_key=True)
    hash: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    roles: list[str] = _json([])
    scope_kind: str = Field(max_length=8)  # org, unit or admin
    scope_id: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = _utc()
    revoked_at: dt.datetime | None = _utc_optional()
    expires_at: dt.datetime | None = _utc_optional()  # None: until revoked


class UserAccount(SQLModel, table=True):
    """A person who signs in to the screens (storage.users): the same roles and org or unit
    scope as a token; only an Argon2id hash of the password is kept."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    roles: list[str] = _json([])
    scope_kind: str = Field(max_length=8)  # org, unit or admin
    scope_id: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = _utc()
    disabled_at: dt.datetime | None = _utc_optional()
    # failed sign-ins in a row, and until when sign-in is refused after too many
    failed_logins: int = 0
    locked_until: dt.datetime | None = _utc_optional()
    password_changed_at: dt.datetime = _utc()


class WebSession(SQLModel, table=True):
    """A signed-in browser: the SHA-256 of its cookie's secret, the CSRF token its forms carry,
    and when it ends (signing out ends it at once)."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    hash: str = Field(unique=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: dt.datetime = _utc()
    expires_at: dt.datetime = _utc()
    ended_at: dt.datetime | None = _utc_optional()


class IdempotencyRecord(SQLModel, table=True):
    """The response to a create made with an Idempotency-Key, replayed on a retry."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="token.id")
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status: int
    body: dict[str, Any] = _json({})
    created_at: dt.datetime = _utc()


class Subscription(SQLModel, table=True):
    """Where reminders go besides the log: a channel (webhook, WeCom, DingTalk, e-mail) for an
    org's subtree, optionally only some campaigns, kinds of message and roles.

    A subscription is never removed, only marked deleted (`deleted_at`): its id stays taken,
    so the deliveries bound to it (by a foreign key) can never reach a later subscription
    that got the same id — SQLite hands out a removed row's id again.
    """

    __tablename__ = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    channel: str = Field(max_length=16)
    config: dict[str, Any] = _json({})  # url, key, secret …; secrets never leave the API
    org_id: str = Field(foreign_key="org.id", max_length=64)
    org_path: str = _path()
    campaign_id: str | None = Field(default=None, max_length=64)
    kinds: list[str] = _json([])
    roles: list[str] = _json([])
    created_by: str = Field(max_length=200)
    created_at: dt.datetime = _utc()
    deleted_at: dt.datetime | None = _utc_optional()
    # How its messages go out (deadlines.pacing): {} = each at once; {"mode": "digest",
    # "at": ["09:00"], …} = held and sent together at set local times.
    delivery: dict[str, Any] = _json({})
    # {"messages": 20, "seconds": 60} overrides the channel kind's default limit; {} = default
    rate_limit: dict[str, Any] = _json({})
    # the language its messages are worded in (engine.texts.LANGUAGES: zh or en)
    lang: str = Field(default="zh", max_length=8, sa_column_kwargs={"server_default": "zh"})


class Delivery(SQLModel, table=True):
    """The outbox: one message for one destination, sent and retried until delivered or dead.

    A delivery is bound to its destination when it is queued: `subscription_id` (null for the
    log channel) names the one subscription it may be sent to, and nothing else.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_due", "next_attempt_at",
              sqlite_where=text("status IN ('pending', 'sending')"),
              postgresql_where=text("status IN ('pending', 'sending')")),
        Index("ix_delivery_status", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=400)  # the idempotency key receivers see
    timer_id: int | None = Field(default=None, index=True)
    subscription_id: int | None = Field(default=None, foreign_key="subscription.id",
                                        index=True)
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=32)
    subject: str = Field(max_length=100)
    campaign_id: str = Field(default="", max_length=64)
    org_path: str = Field(default="/", sa_column=Column(path_type(), nullable=False,
                                                        server_default="/"))
    message: dict[str, Any] = _json({})
    late: bool = False
    # pending, sending, delivered, dead, cancelled (its destination went away); held (waiting
    # for its subscription's next digest), digested (sent as part of delivery `digest_id`)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: dt.datetime = _utc()
    lease_until: dt.datetime | None = _utc_optional()
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: dt.datetime = _utc()
    delivered_at: dt.datetime | None = _utc_optional()
    # The robot's rate limit held it back this often, last until `delayed_until` (no attempt
    # is counted for that: deadlines.pacing)
    # server-side default alone: rows written before this column existed read 0
    rate_limited_count: int = Field(default=0, sa_column=Column(Integer(), nullable=False,
                                                                server_default="0"))
    delayed_until: dt.datetime | None = _utc_optional()
    digest_id: int | None = Field(default=None, index=True)  # the digest it went out in


class RateWindow(SQLModel, table=True):
    """The recent sends to one robot, shared by every deliverer: a sliding window of at most
    the limit's number of instants, read and written under the row's lock
    (deadlines.pacing). `key` is a digest of the robot's address, never its secret."""

    __tablename__ = "rate_window"

    key: str = Field(primary_key=True, max_length=64)
    sent: list[int] = _json([])  # microseconds since the epoch, oldest first
    updated_at: dt.datetime = _utc()


class SweepHeartbeat(SQLModel, table=True):
    """When a sweeper last finished a sweep, and which: one row, written by every sweeper after
    each sweep, read by `/ready` (a scheduler that stopped sweeping makes the service unready)."""

    __tablename__ = "sweep_heartbeat"

    # always 1: the newest sweep of any sweeper is what readiness needs
    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    swept_at: dt.datetime = _utc()
    swept_by: str = Field(max_length=200)  # host:pid of the sweeper


class CalendarYear(SQLModel, table=True):
    """One version of a year's statutory schedule, added from the State Council's notice
    (engine.schedules); the newest version of a year wins over the chinesecalendar package."""

    __tablename__ = "calendar_year"
    __table_args__ = (UniqueConstraint("year", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    version: int
    notice: str = Field(max_length=200)  # the notice's number (文号)
    notice_date: dt.date
    # {"holidays": [{"name", "from", "to"}], "workdays": [ISO dates]}
    schedule: dict[str, Any] = _json({})
    text: str  # the file as added
    sha256: str = Field(max_length=64)
    added_at: dt.datetime = _utc()
    added_by: str = Field(max_length=200)
