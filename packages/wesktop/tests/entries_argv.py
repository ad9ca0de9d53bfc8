"""Launched by test_entries.py through a desktop entry: writes the arguments it got as JSON.

Usage: ``entries_argv.py OUTPUT ARG...`` writes ``[ARG, ...]`` to OUTPUT.
"""

import json
import sys
from pathlib import Path

output = Path(sys.argv[1])
tmp = output.with_name(output.name + ".tmp")
tmp.write_text(json.dumps(sys.argv[2:]))
tmp.replace(output)
