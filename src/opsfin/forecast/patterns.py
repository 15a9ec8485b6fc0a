"""Demand patterns by the Syntetos–Boylan classification: the average demand interval (ADI, periods per
period with demand) and the squared coefficient of variation of the non-zero demand sizes (CV²), with the
cut-offs ADI 1.32 and CV² 0.49 (Syntetos, Boylan & Croston 2005, "On the categorization of demand
patterns"). Intermittent and lumpy series get the intermittent-demand models (Croston, TSB, ADIDA)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49

SMOOTH = "smooth"
ERRATIC = "erratic"
INTERMITTENT = "intermittent"
LUMPY = "lumpy"
NO_DEMAND = "no demand"
# a series with a negative value is not demand: ADI/CV² say nothing about it
NOT_DEMAND = "continuous"
INTERMITTENT_PATTERNS = (INTERMITTENT, LUMPY)


@dataclass(frozen=True)
class DemandPattern:
    """`adi`: periods per demand (1.0 when every period has demand); `cv2`: squared coefficient of
    variation (population variance / mean²) of the non-zero values; `pattern` one of the names above."""

    pattern: str
    adi: float
    cv2: float


def demand_pattern(y: np.ndarray) -> DemandPattern:
    """Classify one series (its values in time order)."""
    values = np.asarray(y, dtype=float)
    if values.size == 0 or np.any(values < 0):
        return DemandPattern(NOT_DEMAND, float("nan"), float("nan"))
    demands = values[values > 0]
    if demands.size == 0:
        return DemandPattern(NO_DEMAND, float("inf"), float("nan"))
    adi = values.size / demands.size
    cv2 = float(np.var(demands) / np.mean(demands) ** 2)
    if adi < ADI_CUTOFF:
        return DemandPattern(SMOOTH if cv2 < CV2_CUTOFF else ERRATIC, adi, cv2)
    return DemandPattern(INTERMITTENT if cv2 < CV2_CUTOFF else LUMPY, adi, cv2)
