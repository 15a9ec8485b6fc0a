"""opsfin: an open-source operations-finance platform.

import opsfin
ws = opsfin.open("demo-workspace")
ws.table("gl_entries")
"""

from .errors import UserError
from .workspace import Workspace, init, open

__version__ = "0.1.0"
__all__ = ["UserError", "Workspace", "init", "open", "__version__"]
