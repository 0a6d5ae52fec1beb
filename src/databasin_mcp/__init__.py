"""databasin-mcp: an MCP server for managing Databasin data connectors."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("databasin-mcp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
