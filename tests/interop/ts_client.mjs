// A TypeScript-SDK client (@modelcontextprotocol/sdk, the 2025-11-25 handshake) driving databasin-mcp over stdio.
//
// node ts_client.mjs '<json config>'  with config {nodeDir, command, args, env, refreshConnectorId,
// deleteConnectorId, timeoutMs}. It refreshes a connector's metadata with a progress token, then asks
// delete_connector without confirm, and prints one JSON summary on stdout for the Python test to check.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const config = JSON.parse(process.argv[2]);
// The SDK is installed in the interop node folder, not next to this file: resolve it from there.
const require = createRequire(join(config.nodeDir, "package.json"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StdioClientTransport } = require("@modelcontextprotocol/sdk/client/stdio.js");
const sdkManifest = join(config.nodeDir, "node_modules", "@modelcontextprotocol", "sdk", "package.json");
const sdkVersion = JSON.parse(readFileSync(sdkManifest, "utf8")).version;

const transport = new StdioClientTransport({
  command: config.command,
  args: config.args,
  env: config.env,
  stderr: "pipe",
});
let serverStderr = "";
transport.stderr?.on("data", (chunk) => {
  serverStderr += chunk;
});

// Record the wire: what the client sends, and every message in the order it arrives.
let protocolVersion = null;
transport.setProtocolVersion = (version) => {
  protocolVersion = version;
};
const sent = [];
const send = transport.send.bind(transport);
transport.send = (message, options) => {
  sent.push(message);
  return send(message, options);
};
const arrived = [];

const client = new Client({ name: "databasin-interop-ts", version: "1.0.0" });
const summary = { sdkVersion };
try {
  await client.connect(transport);
  const onmessage = transport.onmessage;
  transport.onmessage = (message, extra) => {
    arrived.push(message);
    onmessage(message, extra);
  };
  summary.protocolVersion = protocolVersion;
  summary.serverInfo = client.getServerVersion();

  const reported = [];
  const refresh = await client.callTool(
    { name: "refresh_connector_metadata", arguments: { connector_id: config.refreshConnectorId } },
    undefined,
    { onprogress: (progress) => reported.push(progress), timeout: config.timeoutMs, resetTimeoutOnProgress: true },
  );
  const request = sent.find((m) => m.method === "tools/call" && m.params.name === "refresh_connector_metadata");
  const progressToken = request.params._meta.progressToken;
  const responseAt = arrived.findIndex((m) => m.id === request.id && "result" in m);
  summary.refresh = {
    progressToken,
    // Raw notifications/progress for this token, and whether each came before the call's answer.
    notifications: arrived
      .map((m, index) => ({ m, index }))
      .filter(({ m }) => m.method === "notifications/progress")
      .map(({ m, index }) => ({ ...m.params, beforeResult: index < responseAt })),
    reported,
    isError: refresh.isError ?? false,
    text: refresh.content.map((c) => c.text),
    structuredContent: refresh.structuredContent ?? null,
  };

  const unconfirmed = await client.callTool(
    { name: "delete_connector", arguments: { connector_id: config.deleteConnectorId } },
    undefined,
    { timeout: config.timeoutMs },
  );
  summary.delete = {
    isError: unconfirmed.isError ?? false,
    text: unconfirmed.content.map((c) => c.text),
    structuredContent: unconfirmed.structuredContent ?? null,
  };
} catch (error) {
  summary.error = String(error?.stack ?? error);
} finally {
  await client.close();
}
summary.serverStderr = serverStderr;
process.stdout.write(JSON.stringify(summary) + "\n");
process.exitCode = summary.error ? 1 : 0;
