"""Test-wide set-up."""

from __future__ import annotations

import functools
import socket
from collections.abc import Iterator

import botocore.loaders
import botocore.session
import pytest


@functools.cache
def _shared_loader(data_path: str | None) -> botocore.loaders.Loader:
    return botocore.loaders.create_loader(data_path)


@pytest.fixture(autouse=True, scope="session")
def _one_botocore_loader() -> Iterator[None]:
    """Every botocore session reads the service models through one loader.

    moto resets boto3's default session for each mock, and PynamoDB makes a session per
    connection, so each local stack would parse the same large service-model JSON files again
    (most of an integration test's time). The models are read-only data; sharing the loader is
    what one session already does for all its clients. Only the tests do this.
    """
    original = getattr(botocore.session.Session, "_register_data_loader", None)
    if original is None:  # a botocore without the hook: run slower, not wrong
        yield
        return

    def register(self: botocore.session.Session) -> None:
        self._components.lazy_register_component(
            "data_loader", lambda: _shared_loader(self.get_config_variable("data_path"))
        )

    botocore.session.Session._register_data_loader = register  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.session.Session._register_data_loader = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_network_in_unit_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Unit and job tests run on pure code and fakes: any connection they open is a bug."""
    if {"unit", "jobs"} & set(request.path.parts):

        def refuse(*args, **kwargs):
            raise RuntimeError(f"a unit test opened a network connection: {request.node.nodeid}")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket.socket, "connect_ex", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
