"""Schemathesis against the OpenAPI document: generated requests (valid and not) to every route
never get a 5xx. Examples are bounded so that the suite stays fast."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from api.app import create_app
from tests.support.world import World

EXAMPLES = 6


@pytest.fixture
def api_schema(world: World) -> Iterator[Any]:
    app = create_app(services=world.services)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    yield schema


fuzzed = schemathesis.pytest.from_fixture("api_schema")


@fuzzed.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case: Any, world: World) -> None:
    # an org token, so that scope checks run too (the authorization matrix covers the rest)
    for who in ("locality",):
        response = case.call(headers={**(case.headers or {}), **world.auth(who)})
        assert response.status_code < 500, (case.method, case.path, response.text)
        if response.status_code >= 400:
            content_type = response.headers["content-type"]
            assert "application/problem+json" in str(content_type), response.text
