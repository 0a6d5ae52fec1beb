"""``python -m databasin_mcp.sandbox``: run the sandbox API until interrupted."""

import sys

from .serve import main

sys.exit(main())
