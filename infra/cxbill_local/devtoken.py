"""Locally signed development tokens (HS256 JWTs, PyJWT) for `cxbill serve`. Not for production:
the deployed API verifies real tokens with API Gateway's JWT authorizer."""

from __future__ import annotations

import secrets
import time

import jwt

SECRET = secrets.token_bytes(32)  # one per serve process: tokens die with it
ISSUER = "cxbill-serve"  # the local stand-in's, checked on the way back
AUDIENCE = "cxbill-admin"  # the template's JwtAudience default


def sign(claims: dict, ttl_seconds: int = 3600, secret: bytes | None = None) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, **claims, "exp": now + ttl_seconds}
    return jwt.encode(payload, secret or SECRET, algorithm="HS256")


def verify(token: str, secret: bytes | None = None) -> dict | None:
    """The claims of a valid, unexpired token of this process; None otherwise."""
    try:
        return jwt.decode(
            token,
            secret or SECRET,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat"]},
        )
    except jwt.PyJWTError:
        return None
