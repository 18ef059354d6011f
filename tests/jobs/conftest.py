"""Each job test gets every port faked and every job built on the fakes."""

from __future__ import annotations

import pytest
from job_books import Books


@pytest.fixture
def books() -> Books:
    return Books()
