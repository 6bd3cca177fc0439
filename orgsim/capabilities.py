"""Capabilities: the kinds of work an organisation can do.

Every vector in orgsim (a member's skills, a demand's work, a unit's capacity) runs over the same
ordered list of capabilities. The list is a ring: each capability is *adjacent* to its two
neighbours, which is where T-shaped members have their secondary skills and where exploration
learns first.

The last ``frontier`` capabilities of the list are *frontier* capabilities: no demand needs them when
the world is founded and nobody is hired for them. The technology layer may announce one, and later
it arrives (demand types start to need it) or it never does (``orgsim.environment``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_CAPABILITIES: tuple[str, ...] = (
    "discovery",
    "design",
    "build",
    "data",
    "compliance",
    "operations",
)
COMPLIANCE = "compliance"


@dataclass(frozen=True)
class Capabilities:
    """An ordered set of capability names, one of which must be ``"compliance"``."""

    names: tuple[str, ...] = DEFAULT_CAPABILITIES
    frontier: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.frontier <= len(self.names) - 3:
            raise ValueError(f"frontier must leave compliance and two established capabilities, got {self.frontier}")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"capability names must be unique, got {list(self.names)}")
        if COMPLIANCE not in self.names:
            raise ValueError(f"capabilities must include {COMPLIANCE!r}, got {list(self.names)}")
        if len(self.names) < 3:
            raise ValueError("at least 3 capabilities are needed (compliance and two others)")

    def __len__(self) -> int:
        return len(self.names)

    @property
    def compliance(self) -> int:
        """Index of the compliance capability."""
        return self.names.index(COMPLIANCE)

    @property
    def work(self) -> np.ndarray:
        """Indices of the capabilities that are not compliance (where customer work lies)."""
        return np.array([k for k in range(len(self)) if k != self.compliance])

    @property
    def frontier_indices(self) -> np.ndarray:
        """Indices of the frontier capabilities (the last ``frontier`` names)."""
        return np.arange(len(self) - self.frontier, len(self))

    @property
    def established(self) -> np.ndarray:
        """Indices of the customer capabilities demand needs at founding (work, not frontier)."""
        return np.array([k for k in self.work if k < len(self) - self.frontier])

    @property
    def flow_order(self) -> np.ndarray:
        """Order in which a hand-off flow visits the capabilities: list order, compliance last."""
        return np.append(self.work, self.compliance)

    def adjacency(self) -> np.ndarray:
        """(K, K) 0/1 matrix: 1 where two capabilities are neighbours on the ring."""
        k = len(self)
        adj = np.zeros((k, k))
        idx = np.arange(k)
        adj[idx, (idx + 1) % k] = 1.0
        adj[idx, (idx - 1) % k] = 1.0
        return adj
