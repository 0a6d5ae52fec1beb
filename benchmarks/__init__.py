"""`make bench`: what databasin-mcp costs an agent (tokens), a client (latency, start-up) and a host (memory).

Every measurement runs against the sandbox API, started and stopped here. Modules, one job each:
tasks (the agent's task set, run in-process), formats (the same data as JSON, TOON and CSV), tokens (the token
comparison), stats, processes (spawning servers), bare_server (the SDK's floor), without (hiding a module from
a server), latency, startup, memory, chart (tokens.svg) and report (RESULTS.md and the summary table).
"""
