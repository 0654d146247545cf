"""Login and bearer-token checks of the simulated SciCat."""

import hmac
import secrets
import time
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from devstack.scicat_sim.errors import ApiError, unauthorized
from devstack.scicat_sim.models import LoginDto
from devstack.scicat_sim.store import JsonStore
from devstack.scicat_sim.timestamps import now_iso


def user_email(username: str) -> str:
    """Returns the e-mail address the simulator gives a user."""
    return f"{username}@scicat-sim.invalid"


class Authenticator:
    """Checks credentials, issues tokens that expire after `token_ttl_s`, resolves tokens."""

    def __init__(self, store: JsonStore, users: Mapping[str, str], token_ttl_s: float) -> None:
        self._store = store
        self._users = dict(users)
        self.token_ttl_s = token_ttl_s

    def login(self, dto: LoginDto) -> dict[str, Any]:
        """Returns a login answer like `ReturnedAuthLoginDto`; 401 on bad credentials."""
        expected = self._users.get(dto.username)
        if expected is None or not hmac.compare_digest(expected, dto.password):
            raise ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized")
        token = secrets.token_urlsafe(32)
        ttl = self.token_ttl_s
        now = time.time()
        created = now_iso()
        with self._store.write() as state:
            state.tokens = {k: v for k, v in state.tokens.items() if v["expiresAt"] > now}
            state.tokens[token] = {"userId": dto.username, "expiresAt": now + ttl}
        return {
            "access_token": token,
            "id": str(uuid.uuid4()),
            "expires_in": ttl,
            "ttl": ttl,
            "created": created,
            "userId": dto.username,
            "user": {
                "id": dto.username,
                "username": dto.username,
                "email": user_email(dto.username),
                "emailVerified": True,
                "realm": "",
                "authStrategy": "local",
            },
        }

    def user_for(self, authorization: str) -> str:
        """Returns the user of an `Authorization: Bearer` header; 401 if missing or expired."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized()
        with self._store.read() as state:
            entry = state.tokens.get(token.strip())
        if entry is None or entry["expiresAt"] <= time.time():
            raise unauthorized()
        return str(entry["userId"])
