"""Locally signed development tokens (HS256 JWTs) for `cxbill serve`. Not for production: the
deployed API verifies real tokens with API Gateway's JWT authorizer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

SECRET = secrets.token_bytes(32)  # one per serve process: tokens die with it


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: dict, ttl_seconds: int = 3600, secret: bytes = SECRET) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({**claims, "exp": int(time.time()) + ttl_seconds}).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def verify(token: str, secret: bytes = SECRET) -> dict | None:
    """The claims of a valid, unexpired token; None otherwise."""
    try:
        header, body, signature = token.split(".")
        expected = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        claims = json.loads(_unb64(body))
    except (ValueError, json.JSONDecodeError):
        return None
    return claims if claims.get("exp", 0) > time.time() else None
