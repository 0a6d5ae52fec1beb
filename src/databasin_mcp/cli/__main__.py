"""`python -m databasin_mcp.cli` runs the `databasin` command line."""

from . import main

main()
