"""The MCP Bundle's entry point: what a host runs, with uv, from the unpacked bundle (manifest.json).

uv installs the bundle's project (pyproject.toml, src/) into an environment of its own and runs this
file with it; the server then speaks MCP over stdio, configured by the variables manifest.json maps
from the user's settings.
"""

import sys

from databasin_mcp.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
