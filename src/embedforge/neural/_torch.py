"""The one place that imports PyTorch for :mod:`embedforge.neural`, with the error that says how to install it."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParameterError, MissingDependencyError

__all__ = ["require_torch", "resolve_device"]


def require_torch(what: str = "embedforge.neural") -> Any:
    """``import torch``, or a MissingDependencyError naming the install command.

    Raises
    ------
    MissingDependencyError
        If PyTorch is not installed.
    """
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError(
            f"{what} needs PyTorch, which is not installed; install the CPU build with "
            '`pip install torch==2.13.0`, or `pip install "embedforge[torch]"`'
        ) from exc
    return torch


def resolve_device(device: str) -> Any:
    """``torch.device`` for ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda[:i]"``.

    Raises
    ------
    InvalidParameterError
        If ``device`` is another string, or ``"cuda"`` is asked for on a machine without CUDA.
    """
    torch = require_torch()
    if not isinstance(device, str) or not (
        device in ("auto", "cpu", "cuda") or device.startswith("cuda:")
    ):
        raise InvalidParameterError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:<index>'; got {device!r}"
        )
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidParameterError(
            f"device={device!r} but this PyTorch sees no CUDA device; use device='cpu' or 'auto'"
        )
    return torch.device(device)
