"""The demo company generator (`opsfin demo`)."""

from .generate import DemoResult, generate
from .scales import SCALES

__all__ = ["SCALES", "DemoResult", "generate"]
