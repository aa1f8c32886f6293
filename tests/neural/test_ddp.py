"""DistributedDataParallel: two CPU processes (gloo) under torch.distributed.run against one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import embedforge  # noqa: E402

HERE = Path(__file__).parent


def test_two_cpu_processes_match_one_process_with_the_same_global_batch(tmp_path):
    """DDP (gloo, 2 processes, 32 rows each) vs one process (64 rows): float64, agree to 1e-10.

    The losses gather embeddings across processes with gradients, so the two runs differ
    only in the order of floating-point sums.
    """
    sys.path.insert(0, str(HERE))
    try:
        import _ddp_worker
    finally:
        sys.path.remove(str(HERE))
    single = _ddp_worker.train()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    src = str(Path(embedforge.__file__).parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(HERE / "_ddp_worker.py"), str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    ddp = np.load(tmp_path / "weights.npz")
    for name, value in single.state_dict().items():
        key = name.replace(".", "_")
        np.testing.assert_allclose(ddp[key], value.numpy(), rtol=0, atol=1e-10)
    start = _ddp_worker.build()[0].state_dict()
    assert not torch.equal(start["0.weight"], single.state_dict()["0.weight"])
