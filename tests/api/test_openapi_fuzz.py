"""Schemathesis against the whole OpenAPI document, with every check it has: generated requests
(valid and not) to every route never get a 5xx; every answer has a documented status, content
type, headers and a body that conforms to its documented schema; requests that break the schema
are refused; requests that keep it are accepted, save for the refusals listed below; a method a
path does not take is a 405 with `Allow`; auth is enforced. Examples are bounded so that the
suite stays fast."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from api.app import create_app
from storage import heartbeat
from tests.support.world import World

EXAMPLES = 6

# A request the schema allows may still be refused for what it means against the data stored
# or the campaign's own definitions, which no static schema can state: a case type, case data
# fields and lifecycle conditions, an evidence schema and a channel's settings are defined by
# campaigns and channels, and a cursor must be one a previous page gave out. These codes, and
# only these, excuse a 422 to a schema-valid request; any other refusal of one (a shape the
# schema should have stated: `request_invalid`, `bad_filter` …) fails the run.
MEANING_CODES = frozenset({
    "bad_cursor",  # a cursor is opaque: only one the API gave out is one
    # the campaign's case types, case fields and conditions, and where it is deployed
    "unknown_case_type", "missing_fields", "invalid_data", "condition_failed",
    "campaign_not_deployed",
    "bad_found_on",  # a case's found_on: a day of its campaign's period, not in the future
    "campaign_invalid",  # a YAML body is a campaign, checked against the campaign language
    "calendar_out_of_range",  # dates the installed calendar years do not cover
    "evidence_invalid",  # the evidence schema of the obligation's check
    "channel_config_invalid",  # each channel's own settings (docs/channels.md)
    "delivery_invalid",  # a subscription's digest settings: its time zone (docs/channels.md)
    "import_invalid",  # a file's rows, against the campaigns' vocabularies and the tree
    "org_cycle",  # moving an org under its own subtree
    "unknown_term",  # org levels, industries, tags and roles: the words the campaigns declare
})


def positive_data_acceptance_but_meaning(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's positive_data_acceptance, narrowed: a 422 whose `code` is one of
    MEANING_CODES is a refusal of what the request means, not of its shape."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 422 and _code(response) in MEANING_CODES:
            return None
        raise


def _code(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


@pytest.fixture
def api_schema(world: World) -> Iterator[Any]:
    with world.services.db.write() as conn:  # a sweeper swept just now: /ready answers 200
        heartbeat.record(conn, now=world.clock())
    app = create_app(services=world.services)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # Text with NUL is refused everywhere (422: no database stores it), which the document
    # does not state string by string; tests/api/test_input_errors.py tries NUL in every kind
    # of input instead. Without this, every string the generator fills with NUL would count
    # as a schema-valid request refused.
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    allow_x00=False)
    yield schema


fuzzed = schemathesis.pytest.from_fixture("api_schema")


@fuzzed.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_check_holds(case: Any, world: World) -> None:
    excluded = [positive_data_acceptance]
    if case.operation.label == "POST /campaigns/validate":
        # Its purpose is to answer 200 with the problems of whatever YAML it is sent: a body
        # the document calls invalid is the very input it reports on, not one it refuses.
        excluded.append(negative_data_rejection)
    # an org token, so that scope checks run too (the authorization matrix covers the rest)
    response = case.call_and_validate(
        headers={**(case.headers or {}), **world.auth("locality")},
        excluded_checks=excluded, additional_checks=[positive_data_acceptance_but_meaning])
    if response.status_code >= 400:
        assert "application/problem+json" in response.headers["content-type"], response.text
