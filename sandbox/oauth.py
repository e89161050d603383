"""Intuit's OAuth 2.0 endpoints: the token endpoint and the discovery document."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.auth import OAuthError
from sandbox.responses import json_response
from sandbox.service import Sandbox

TOKEN_PATH = "/oauth2/v1/tokens/bearer"


def oauth_routes(sandbox: Sandbox) -> list[Route]:
    """Routes of the token server for ``sandbox``."""

    async def token(request: Request) -> Response:
        sandbox.requests[("oauth", "token")] += 1
        injected = sandbox.take_fault("token")
        if injected is not None and not injected[1]:
            return json_response({"error": "server_error"}, injected[0])
        try:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
            client_id, client_secret = _client_credentials(request, form)
            sandbox.issuer.check_client(client_id, client_secret)
            if form.get("grant_type") != "refresh_token":
                raise OAuthError(400, "unsupported_grant_type")
            answer = sandbox.issuer.refresh(form.get("refresh_token", ""))
        except OAuthError as error:
            return json_response({"error": error.error}, error.status)
        if injected is not None:
            return json_response({"error": "server_error"}, injected[0])
        return json_response(answer)

    async def discovery(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return json_response(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/connect/oauth2",
                "token_endpoint": f"{base}{TOKEN_PATH}",
                "revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
                "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
                "jwks_uri": f"{base}/oauth2/v1/keys",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "scopes_supported": ["com.intuit.quickbooks.accounting", "openid", "profile", "email"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        )

    return [
        Route("/.well-known/openid_configuration", discovery),
        Route(TOKEN_PATH, token, methods=["POST"]),
    ]


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """Client id and secret from HTTP Basic, else from the form body."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        return client_id, client_secret
    return form.get("client_id"), form.get("client_secret")
