"""The OpenAPI description says what the portal really answers (issue #7 item 15), and the bugs fuzzing found.

tests/portal/test_api_conformance.py checks the answers against the description
with schemathesis; these read the description itself, and pin each bug the
fuzzers found (405 without `Allow`, OPTIONS listing half the methods, 500s on
/static and on a non-ASCII Basic header).
"""

from __future__ import annotations

import base64

import pytest

LITESTAR_ERROR_FIELDS = {"status_code", "detail"}


@pytest.fixture(scope="module")
def described(app):  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    return TestClient(app).get("/schema/openapi.json").json()


def _operations(described):  # type: ignore[no-untyped-def]
    for path, item in described["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method.upper(), operation


def _schema_of(described, response):  # type: ignore[no-untyped-def]
    schema = response["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = described["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_no_operation_describes_litestars_default_error_shape(described):
    for path, method, operation in _operations(described):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and "application/json" in response.get("content", {}):
                properties = set(_schema_of(described, response).get("properties", {}))
                assert not LITESTAR_ERROR_FIELDS & properties, f"{method} {path} {status}"


def test_json_errors_are_the_portals_one_shape(described):
    error = described["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message"]
    assert set(error["properties"]) == {"error", "message", "field_errors", "extra", "missing", "reason"}
    filing = described["paths"]["/api/v1/dossiers"]["post"]["responses"]
    assert set(filing) == {"201", "400", "401", "403", "404", "409", "413", "422"}
    for status in ("400", "401", "403", "404", "409", "413", "422"):
        assert filing[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "WWW-Authenticate" in filing["401"]["headers"]


def test_api_operations_name_their_security_and_token_scope(described):
    read = described["paths"]["/api/v1/dossiers/{dossier_id}"]["get"]
    assert read["security"] == [{"partnerSystem": ["dossiers:read"]}, {"session": []}]
    assert set(read["responses"]) == {"200", "400", "401", "403", "404"}
    flows = described["components"]["securitySchemes"]["partnerSystem"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "/api/oauth/token"
    assert described["paths"]["/api/city/callbacks"]["post"]["security"] == [{"citySignature": []}]
    assert "security" not in described["paths"]["/api/v1/procedures"]["get"]


def test_the_token_endpoint_is_described_in_rfc_6749s_shapes(described):
    token = described["paths"]["/api/oauth/token"]["post"]
    assert set(token["responses"]) == {"200", "400", "401", "413", "429"}
    assert set(_schema_of(described, token["responses"]["200"])["required"]) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
    }
    for status in ("400", "401", "413"):
        assert set(_schema_of(described, token["responses"][status])["properties"]) == {"error", "error_description"}
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form == {"$ref": "#/components/schemas/TokenRequest"}
    fields = described["components"]["schemas"]["TokenRequest"]["properties"]
    assert set(fields) == {"grant_type", "scope", "client_id", "client_secret"}


def test_the_inputs_say_that_text_holds_no_control_characters(described):
    filing = described["components"]["schemas"]["DossierIn"]["properties"]
    assert filing["idempotency_key"]["pattern"] == "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"
    assert filing["citizen"]["propertyNames"]["pattern"] == filing["idempotency_key"]["pattern"]
    assert filing["form"]["additionalProperties"] == {"$ref": "#/components/schemas/AnyJson"}
    limit = next(p for p in described["paths"]["/api/v1/dossiers"]["get"]["parameters"] if p["name"] == "limit")
    assert "pattern" not in limit["schema"]  # a number has no characters to refuse


def test_pages_say_they_answer_html_and_redirect_to_sign_in(described):
    page = described["paths"]["/dossiers"]["get"]
    assert "pages" in page["tags"] and page["security"] == [{"session": []}]
    assert "Location" in page["responses"]["302"]["headers"]
    assert "text/html" in page["responses"]["default"]["content"]


def test_the_health_check_describes_its_degraded_answer(described):
    health = described["paths"]["/healthz"]["get"]["responses"]
    assert _schema_of(described, health["200"]) == _schema_of(described, health["503"])


# -- bugs the fuzzers found ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/dossiers", "/api/oauth/token", "/login"])
def test_a_405_says_which_methods_the_path_has(portal, path):
    response = portal().http.request("TRACE", path)
    assert response.status_code == 405
    assert response.headers["allow"]
    assert set(response.headers["allow"].split(", ")) >= {"POST"}


def test_options_lists_every_method_of_the_path(portal):
    # Litestar built the OPTIONS answer from the path's first handler only: "OPTIONS, POST".
    response = portal().http.options("/api/v1/dossiers")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS, POST"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("x" * 5000, 404),
        # A NUL once the parameter is decoded a second time: refused at the edge like any NUL.
        ("%2500", 400),
        ("a%2500b.css", 400),
    ],
)
def test_static_file_names_no_file_can_have_are_not_found_or_refused(portal, name, status):
    response = portal().get(f"/static/{name}")
    assert response.status_code == status


def test_a_non_ascii_basic_header_is_an_invalid_request(portal):
    response = portal().http.post(
        "/api/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"authorization": b"Basic \xe9\xe9"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"
    good_shape = base64.b64encode(b"unknown:secret").decode()
    assert (
        portal()
        .http.post(
            "/api/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"authorization": f"Basic {good_shape}"},
        )
        .status_code
        == 401
    )


def test_the_drafts_operations_declare_their_scope_and_their_refusals(described):
    paths = described["paths"]
    submit = paths["/api/v1/drafts/{draft_id}/submit"]["post"]
    assert submit["security"] == [{"partnerSystem": ["dossiers:write"]}, {"session": []}]
    assert {"201", "401", "403", "404", "409", "422"} <= set(submit["responses"])
    upload = paths["/api/v1/drafts/{draft_id}/documents/{slot}"]["put"]
    assert {"201", "422", "503"} <= set(upload["responses"])
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    body = described["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]] if "$ref" in body else body
    assert body["required"] == ["file"] and body["properties"]["file"]["format"] == "binary"
    receipt = paths["/api/v1/dossiers/{dossier_id}/receipt.pdf"]["get"]
    assert receipt["security"] == [{"partnerSystem": ["dossiers:read"]}, {"session": []}]
    assert "application/pdf" in receipt["responses"]["200"]["content"]
