"""databasin-mcp: an MCP server for managing Databasin data connectors."""

# The one place the version is written: the build reads it from here (pyproject.toml, [tool.hatch.version]),
# and server.json, the MCPB manifest and CHANGELOG.md are checked against it (tests/packaging).
__version__ = "0.1.0"

__all__ = ["__version__"]
