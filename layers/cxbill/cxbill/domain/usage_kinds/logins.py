"""4.2.1 logins: one row per login session; what named, concurrent and hourly users are
measured from (licensing/). Bills nothing by itself."""

from __future__ import annotations

from typing import NamedTuple

from ..problems import RowError
from .fields import choice, instant, required
from .kind import Cells, UsageKind

BILLABLE_CLIENTS = frozenset({"desktop", "web", "mobile"})
CLIENTS = BILLABLE_CLIENTS | {"api", "teams"}


class Session(NamedTuple):
    session_id: str
    user_id: str
    email: str
    client: str
    login_ms: int
    logout_ms: int

    @property
    def identity(self) -> str:
        return self.session_id

    @property
    def billable(self) -> bool:
        return self.client in BILLABLE_CLIENTS

    @property
    def span(self) -> tuple[int, int]:
        return self.login_ms, self.logout_ms


def parse_login(cells: Cells) -> Session:
    session_id, user_id, email, client, login_at, logout_at = cells
    if client not in CLIENTS:  # inline, not choice(): logins are the bulk of all usage
        choice("client", client, CLIENTS)
    login, logout = instant("login_at", login_at), instant("logout_at", logout_at)
    if logout < login:
        raise RowError("logout_at", logout_at, "logout_at is before login_at")
    return Session(
        required("session_id", session_id),
        required("user_id", user_id),
        email,
        client,
        login,
        logout,
    )


LOGINS = UsageKind(
    "logins",
    "session_id,user_id,email,client,login_at,logout_at",
    Session,
    ("text", "name", "name", "name", "instant", "instant"),
    ("session_id",),
    parse_login,
)
