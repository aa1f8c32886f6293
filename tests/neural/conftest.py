"""One intra-op thread for the small tensors of these tests: on a shared, loaded machine
OpenMP's spinning threads make a 64-row batch norm take tens of milliseconds."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
