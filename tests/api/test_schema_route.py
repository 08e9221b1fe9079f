"""GET /schema/campaign.json: the campaign schema for editors, public and cacheable, so that the
first line of a campaign written anywhere can point at a running server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Settings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "campaigns" / "schema" / "campaign.schema.json"


@pytest.fixture
def bare_client(tmp_path: Path) -> Iterator[TestClient]:
    """An app over a database never set up: the schema needs none."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'never.db'}"))
    with TestClient(app) as client:
        yield client


def test_the_schema_is_served_without_a_token(bare_client: TestClient) -> None:
    answer = bare_client.get("/schema/campaign.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/schema+json"
    assert answer.content == SCHEMA_FILE.read_bytes()
    assert "public" in answer.headers["cache-control"]
    assert answer.headers["etag"].startswith('"')


def test_an_editor_holding_the_current_copy_gets_304(bare_client: TestClient) -> None:
    etag = bare_client.get("/schema/campaign.json").headers["etag"]
    same = bare_client.get("/schema/campaign.json", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    weak = bare_client.get("/schema/campaign.json",
                           headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    old = bare_client.get("/schema/campaign.json", headers={"If-None-Match": '"0123"'})
    assert old.status_code == 200 and old.content == SCHEMA_FILE.read_bytes()


def test_a_bundled_campaign_validates_against_the_served_schema(bare_client: TestClient) -> None:
    served = json.loads(bare_client.get("/schema/campaign.json").content)
    campaign = yaml.safe_load((ROOT / "campaigns/special-action-2023.yaml").read_text("utf-8"))
    jsonschema.Draft202012Validator(served).validate(campaign)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(served).validate({**campaign, "phasez": []})


def test_the_route_is_in_the_openapi_document(bare_client: TestClient) -> None:
    operation = bare_client.get("/openapi.json").json()["paths"]["/schema/campaign.json"]["get"]
    assert "application/schema+json" in operation["responses"]["200"]["content"]
    assert "304" in operation["responses"]
    assert "security" not in operation
