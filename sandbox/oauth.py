"""Intuit's OAuth 2.0 endpoints: authorize, token, revoke and the discovery document.

The authorization endpoint consents at once (there is no user to ask) and
redirects with ``code``, ``state`` and ``realmId``: the first company, or the one
named by the sandbox-only ``realmId`` parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sandbox.auth import OAuthError
from sandbox.responses import json_response
from sandbox.service import Sandbox

TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/oauth2/v1/tokens/revoke"
AUTHORIZE_PATH = "/connect/oauth2"
USERINFO_PATH = "/v1/openid_connect/userinfo"
KEYS_PATH = "/oauth2/v1/keys"


def oauth_routes(sandbox: Sandbox) -> list[Route]:
    """Routes of the token server for ``sandbox``."""

    async def token(request: Request) -> Response:
        sandbox.requests[("oauth", "token")] += 1
        injected = sandbox.chaos.draw("token", kinds=("error",))
        if injected.fails_before_processing:
            return json_response({"error": "server_error"}, injected.status or 500)
        try:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
            client_id, client_secret = _client_credentials(request, form)
            sandbox.issuer.check_client(client_id, client_secret)
            grant_type = form.get("grant_type")
            if grant_type == "refresh_token":
                hard = request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
                answer = sandbox.issuer.refresh(form.get("refresh_token", ""), hard_expiry=hard)
            elif grant_type == "authorization_code":
                answer = sandbox.issuer.exchange_code(form.get("code", ""), form.get("redirect_uri", ""))
                if "openid" in (sandbox.issuer.scopes_of(str(answer["access_token"])) or ()):
                    realm_id = str(sandbox.issuer.realm_of(str(answer["access_token"])))
                    answer["id_token"] = sandbox.openid.id_token(_issuer(request), realm_id, sandbox.clock.now())
            else:
                raise OAuthError(400, "unsupported_grant_type")
        except OAuthError as error:
            return json_response({"error": error.error}, error.status)
        if injected.fails:
            return json_response({"error": "server_error"}, injected.status or 500)
        return json_response(answer)

    async def authorize(request: Request) -> Response:
        params = request.query_params
        if params.get("client_id") != sandbox.client_id:
            return json_response({"error": "invalid_client"}, 400)
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri:
            return json_response({"error": "invalid_request", "error_description": "redirect_uri is required"}, 400)
        realm_id = params.get("realmId") or sandbox.store.realm_ids[0]
        if realm_id not in sandbox.store.realm_ids or params.get("response_type") != "code":
            error = "unsupported_response_type" if realm_id in sandbox.store.realm_ids else "access_denied"
            return RedirectResponse(_with_query(redirect_uri, error=error, state=params.get("state", "")), 302)
        code = sandbox.issuer.authorization_code(realm_id, redirect_uri, params.get("scope", ""))
        return RedirectResponse(
            _with_query(redirect_uri, code=code, state=params.get("state", ""), realmId=realm_id), 302
        )

    async def revoke(request: Request) -> Response:
        """Intuit's revoke takes JSON (``{"token": ...}``, its SDKs); RFC 7009 clients send a form body."""
        raw = (await request.body()).decode("utf-8", "replace")
        try:
            if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
                body = {k: v[0] for k, v in parse_qs(raw).items()}
            else:
                body = json.loads(raw)
                if not isinstance(body, dict):
                    raise ValueError("not an object")
            client_id, client_secret = _client_credentials(request, body)
            sandbox.issuer.check_client(client_id, client_secret)
            token = str(body.get("token", ""))
        except OAuthError as error:
            return json_response({"error": error.error}, error.status)
        except ValueError:
            return json_response({"error": "invalid_request"}, 400)
        if not token:
            return json_response({"error": "invalid_request"}, 400)
        sandbox.issuer.revoke(token)
        return Response(status_code=200)

    async def userinfo(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        scopes = sandbox.issuer.scopes_of(token.strip()) if scheme.lower() == "bearer" else None
        if scopes is None:
            return json_response({"error": "invalid_token"}, 401)
        if "openid" not in scopes:
            return json_response({"error": "insufficient_scope"}, 403)
        return json_response(sandbox.openid.userinfo(scopes))

    async def keys(request: Request) -> Response:
        return json_response(sandbox.openid.jwks())

    async def discovery(request: Request) -> Response:
        base = _issuer(request)
        return json_response(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}{AUTHORIZE_PATH}",
                "token_endpoint": f"{base}{TOKEN_PATH}",
                "revocation_endpoint": f"{base}{REVOKE_PATH}",
                "userinfo_endpoint": f"{base}{USERINFO_PATH}",
                "jwks_uri": f"{base}{KEYS_PATH}",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "scopes_supported": [
                    "com.intuit.quickbooks.accounting",
                    "openid",
                    "profile",
                    "email",
                    "phone",
                    "address",
                ],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        )

    return [
        Route("/.well-known/openid_configuration", discovery),
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(AUTHORIZE_PATH, authorize),
        Route(REVOKE_PATH, revoke, methods=["POST"]),
        Route(USERINFO_PATH, userinfo),
        Route(KEYS_PATH, keys),
    ]


def _issuer(request: Request) -> str:
    """The token server's own address: the discovery document's ``issuer`` and every id_token's ``iss``."""
    return str(request.base_url).rstrip("/")


def _with_query(url: str, **params: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode(params)}"


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
