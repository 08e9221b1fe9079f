"""The OpenAPI document is complete: every operation has a summary, an example for its request
body and for its success response, and documents its problem responses."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

METHODS = ("get", "post", "put", "patch", "delete")
PUBLIC = ("/health", "/ready", "/schema/campaign.json")  # the routes that need no token


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _has_example(document: dict[str, Any], content: dict[str, Any]) -> bool:
    for media in content.values():
        if "example" in media or "examples" in media:
            return True
        schema = _resolve(document, media.get("schema", {}))
        if "examples" in schema or "example" in schema:
            return True
        items = _resolve(document, schema.get("items", {}))
        if schema.get("type") == "array" and "examples" in items:
            return True
        # a page envelope {data: [X], next_cursor}: X carries the example
        data = schema.get("properties", {}).get("data", {})
        if data.get("type") == "array" and "examples" in _resolve(document,
                                                                  data.get("items", {})):
            return True
    return False


def test_every_operation_is_documented_with_examples(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    missing = []
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            name = f"{method.upper()} {path}"
            if not operation.get("summary"):
                missing.append(f"{name}: summary")
            body = operation.get("requestBody")
            if body and not _has_example(document, body["content"]):
                missing.append(f"{name}: request example")
            ok = [r for status, r in operation["responses"].items() if status.startswith("2")]
            if not ok:
                missing.append(f"{name}: success response")
            for response in ok:
                content = response.get("content")
                if content and not _has_example(document, content):
                    missing.append(f"{name}: response example")
            if path not in PUBLIC and "401" not in operation["responses"]:
                missing.append(f"{name}: 401 problem response")
    assert missing == []
