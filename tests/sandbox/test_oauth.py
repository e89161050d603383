"""The sandbox's OAuth token server behaves like Intuit's."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox import SandboxServer


def _refresh(credentials: dict[str, Any], refresh_token: str, basic: bool = True) -> requests.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    auth = None
    if basic:
        auth = (credentials["client_id"], credentials["client_secret"])
    else:
        data.update(client_id=credentials["client_id"], client_secret=credentials["client_secret"])
    return requests.post(
        credentials["token_url"], data=data, auth=auth, headers={"Accept": "application/json"}, timeout=10
    )


def test_refresh_grant_rotates_the_refresh_token(credentials: dict[str, Any]) -> None:
    first = credentials["realms"][0]["refresh_token"]
    answer = _refresh(credentials, first)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 8_726_400
    assert body["refresh_token"] != first
    assert _refresh(credentials, body["refresh_token"]).status_code == 200


def test_superseded_refresh_token_is_invalid_grant(credentials: dict[str, Any]) -> None:
    first = credentials["realms"][0]["refresh_token"]
    assert _refresh(credentials, first).status_code == 200
    reused = _refresh(credentials, first)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant"}


def test_unknown_refresh_token_is_invalid_grant(credentials: dict[str, Any]) -> None:
    answer = _refresh(credentials, "RT1-000-H0-notatoken")
    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_grant"})


def test_client_credentials_accepted_in_form_body(credentials: dict[str, Any]) -> None:
    answer = _refresh(credentials, credentials["realms"][0]["refresh_token"], basic=False)
    assert answer.status_code == 200
    assert "access_token" in answer.json()


def test_wrong_client_secret_is_invalid_client(credentials: dict[str, Any]) -> None:
    answer = requests.post(
        credentials["token_url"],
        data={"grant_type": "refresh_token", "refresh_token": credentials["realms"][0]["refresh_token"]},
        auth=(credentials["client_id"], "wrong"),
        timeout=10,
    )
    assert (answer.status_code, answer.json()) == (401, {"error": "invalid_client"})


def test_separate_connections_hold_independent_token_chains(
    sandbox_server: SandboxServer, credentials: dict[str, Any]
) -> None:
    realm_id = credentials["realms"][0]["realm_id"]
    answer = requests.post(f"{sandbox_server.base_url}/_sandbox/tokens", json={"realm_id": realm_id}, timeout=10)
    assert answer.status_code == 200
    second = answer.json()["refresh_token"]
    assert _refresh(credentials, credentials["realms"][0]["refresh_token"]).status_code == 200
    assert _refresh(credentials, second).status_code == 200


def test_new_connection_for_unknown_realm_is_refused(sandbox_server: SandboxServer) -> None:
    answer = requests.post(f"{sandbox_server.base_url}/_sandbox/tokens", json={"realm_id": "123"}, timeout=10)
    assert answer.status_code == 403
    assert answer.json()["Fault"]["Error"][0]["code"] == "3100"


def test_discovery_document_names_the_endpoints(sandbox_server: SandboxServer, credentials: dict[str, Any]) -> None:
    document = requests.get(f"{sandbox_server.base_url}/.well-known/openid_configuration", timeout=10).json()
    assert document["token_endpoint"] == credentials["token_url"]
    assert document["authorization_endpoint"].endswith("/connect/oauth2")
    assert "client_secret_basic" in document["token_endpoint_auth_methods_supported"]


def test_expired_access_token_gets_gateway_401(sandbox_server: SandboxServer, api: Any) -> None:
    assert api.query("SELECT * FROM Term").status_code == 200
    sandbox_server.sandbox.clock.advance(3601)
    answer = api.query("SELECT * FROM Term")
    assert answer.status_code == 401
    fault = answer.json()["fault"]
    assert fault["type"] == "AUTHENTICATION"
    assert fault["error"][0]["code"] == "3200"
    assert isinstance(answer.json()["time"], int)


def test_missing_bearer_token_gets_401(api: Any) -> None:
    answer = requests.get(f"{api.base}/query", params={"query": "SELECT * FROM Term"}, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["fault"]["error"][0]["code"] == "3200"


def test_token_of_one_realm_is_refused_for_another(api: Any, credentials: dict[str, Any]) -> None:
    other = f"{credentials['api_base_url']}/v3/company/9999999999/query"
    answer = requests.get(other, params={"query": "SELECT * FROM Term"}, headers=api.headers, timeout=10)
    assert answer.status_code == 403
    assert answer.json()["Fault"]["Error"][0]["code"] == "3100"


def _consent(server: SandboxServer, credentials: dict[str, Any], **extra: str) -> dict[str, str]:
    from urllib.parse import parse_qs, urlsplit

    params = {
        "client_id": credentials["client_id"],
        "response_type": "code",
        "state": "xyz-123",
        "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": "http://localhost:9999/callback",
        **extra,
    }
    answer = requests.get(f"{server.base_url}/connect/oauth2", params=params, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "http://localhost:9999/callback"
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def _exchange(credentials: dict[str, Any], code: str, redirect_uri: str) -> requests.Response:
    return requests.post(
        credentials["token_url"],
        auth=(credentials["client_id"], credentials["client_secret"]),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        timeout=10,
    )


def test_authorization_code_flow_connects_a_realm(sandbox_server: SandboxServer, credentials: dict[str, Any]) -> None:
    redirect = _consent(sandbox_server, credentials)
    assert redirect["state"] == "xyz-123"
    assert redirect["realmId"] == credentials["realms"][0]["realm_id"]
    tokens = _exchange(credentials, redirect["code"], "http://localhost:9999/callback")
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["expires_in"] == 3600 and body["x_refresh_token_expires_in"] == 8_726_400
    answer = requests.get(
        f"{credentials['api_base_url']}/v3/company/{redirect['realmId']}/query",
        params={"query": "SELECT * FROM Term"},
        headers={"Authorization": f"Bearer {body['access_token']}", "Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert _refresh(credentials, body["refresh_token"]).status_code == 200


def test_authorization_code_is_single_use_and_bound_to_its_redirect(
    sandbox_server: SandboxServer, credentials: dict[str, Any]
) -> None:
    code = _consent(sandbox_server, credentials)["code"]
    assert _exchange(credentials, code, "http://elsewhere.example/cb").json() == {"error": "invalid_grant"}
    other = _consent(sandbox_server, credentials)["code"]
    assert _exchange(credentials, other, "http://localhost:9999/callback").status_code == 200
    assert _exchange(credentials, other, "http://localhost:9999/callback").json() == {"error": "invalid_grant"}


def test_consent_for_an_unknown_realm_is_denied(sandbox_server: SandboxServer, credentials: dict[str, Any]) -> None:
    redirect = _consent(sandbox_server, credentials, realmId="123")
    assert redirect == {"error": "access_denied", "state": "xyz-123"}


@pytest.mark.parametrize("body", ["json", "form"])
def test_revoking_a_refresh_token_ends_the_connection(
    sandbox_server: SandboxServer, credentials: dict[str, Any], realm_id: str, body: str
) -> None:
    """Intuit's SDKs send JSON; RFC 7009 clients send ``token=...`` form-encoded: both revoke."""
    tokens = _refresh(credentials, sandbox_server.sandbox.issuer.new_refresh_token(realm_id)).json()
    query = f"{credentials['api_base_url']}/v3/company/{realm_id}/query"
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
    assert requests.get(query, params={"query": "SELECT * FROM Term"}, headers=headers, timeout=10).status_code == 200
    payload = (
        {"json": {"token": tokens["refresh_token"]}} if body == "json" else {"data": {"token": tokens["refresh_token"]}}
    )
    revoked = requests.post(
        f"{sandbox_server.base_url}/oauth2/v1/tokens/revoke",
        auth=(credentials["client_id"], credentials["client_secret"]),
        timeout=10,
        **payload,
    )
    assert revoked.status_code == 200
    assert _refresh(credentials, tokens["refresh_token"]).json() == {"error": "invalid_grant"}
    after = requests.get(query, params={"query": "SELECT * FROM Term"}, headers=headers, timeout=10)
    assert after.status_code == 401, "access tokens of the connection die with it"


def test_refresh_token_expires_after_its_lifetime(sandbox_server: SandboxServer, credentials: dict[str, Any]) -> None:
    sandbox_server.sandbox.clock.advance(8_726_400 + 1)
    assert _refresh(credentials, credentials["realms"][0]["refresh_token"]).json() == {"error": "invalid_grant"}


def _refresh_with(credentials: dict[str, Any], token: str, **headers: str) -> requests.Response:
    return requests.post(
        credentials["token_url"],
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=(credentials["client_id"], credentials["client_secret"]),
        headers={"Accept": "application/json", **headers},
        timeout=10,
    )


def test_strict_rotation_refuses_the_superseded_refresh_token(
    sandbox_server: SandboxServer, credentials: dict[str, Any]
) -> None:
    first = credentials["realms"][0]["refresh_token"]
    assert _refresh_with(credentials, first).status_code == 200
    assert _refresh_with(credentials, first).json() == {"error": "invalid_grant"}


def test_grace_period_answers_a_superseded_token_with_the_newest_one(
    sandbox_server: SandboxServer, credentials: dict[str, Any]
) -> None:
    sandbox_server.sandbox.issuer.refresh_token_grace_seconds = 3600
    first = credentials["realms"][0]["refresh_token"]
    newest = _refresh_with(credentials, first).json()["refresh_token"]
    again = _refresh_with(credentials, first)
    assert again.status_code == 200 and again.json()["refresh_token"] == newest, "no new branch of the chain"
    sandbox_server.sandbox.clock.advance(3601)
    assert _refresh_with(credentials, first).json() == {"error": "invalid_grant"}
    assert _refresh_with(credentials, newest).status_code == 200, "the newest token is untouched by the grace reads"


def test_hard_expiry_is_told_when_asked(sandbox_server: SandboxServer, credentials: dict[str, Any]) -> None:
    token = credentials["realms"][0]["refresh_token"]
    answer = _refresh_with(credentials, token, **{"x-include-refresh-token-hard-expires-in": "true"}).json()
    assert 5 * 365 * 86400 - 60 <= answer["x_refresh_token_hard_expires_in"] <= 5 * 365 * 86400
    plain = _refresh_with(credentials, answer["refresh_token"]).json()
    assert "x_refresh_token_hard_expires_in" not in plain
