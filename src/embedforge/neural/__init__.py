"""Neural embedding training in PyTorch (the ``torch`` extra).

Importing this package does not import PyTorch; the modules that need it
(:mod:`.losses`, :mod:`.trainer`, :mod:`.networks`) import it themselves.
"""

from __future__ import annotations

__all__: list[str] = []
