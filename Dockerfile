# databasin-mcp over streamable HTTP, as a non-root user, in two stages: the build stage installs the
# package into a virtual environment; the image is a slim Python with that environment and nothing else.
#
#   docker build -t databasin-mcp .
#   docker run --rm -p 8000:8000 -e DATABASIN_API_URL=https://api.databasin.example \
#     -e DATABASIN_TOKEN -e DATABASIN_MCP_AUTH_TOKEN databasin-mcp
#
# It binds every address, so it refuses to start without DATABASIN_MCP_AUTH_TOKEN (16+ characters), which
# clients send as `Authorization: Bearer <token>` to http://<host>:8000/mcp. No secret is in the image:
# the API token comes from the environment (or a file mounted at DATABASIN_TOKEN_FILE) when it runs.

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN python -m venv /opt/databasin-mcp \
 && /opt/databasin-mcp/bin/pip install --no-cache-dir --disable-pip-version-check . \
 && /opt/databasin-mcp/bin/pip uninstall --yes pip

FROM python:3.12-slim
LABEL io.modelcontextprotocol.server.name="io.github.databasin-ai/databasin-mcp" \
      org.opencontainers.image.title="databasin-mcp" \
      org.opencontainers.image.description="MCP server that lets AI agents manage Databasin data connectors" \
      org.opencontainers.image.source="https://github.com/databasin-ai/databasin-mcp" \
      org.opencontainers.image.licenses="MIT"
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin databasin
COPY --from=build /opt/databasin-mcp /opt/databasin-mcp
ENV PATH="/opt/databasin-mcp/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# A folder the server cannot write to and that holds no .token, for the token lookup in the working directory.
WORKDIR /app
USER databasin:databasin
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["databasin-mcp", "--transport", "streamable-http", "--host", "0.0.0.0", "--port", "8000"]
