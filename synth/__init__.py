"""synth: labeled synthetic training data from declarative recipes."""
from __future__ import annotations

import os

# Lance logs a warning for every dataset it creates; users get our own messages instead.
os.environ.setdefault("LANCE_LOG", "error")

__version__ = "0.1.0"
