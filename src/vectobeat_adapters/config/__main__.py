"""``python -m vectobeat_adapters.config --markdown``: print the configuration reference."""

from __future__ import annotations

import sys

from vectobeat_adapters.config.reference import markdown_reference

if sys.argv[1:] == ["--markdown"]:
    sys.stdout.write(markdown_reference())
else:
    sys.stderr.write("usage: python -m vectobeat_adapters.config --markdown\n")
    raise SystemExit(2)
