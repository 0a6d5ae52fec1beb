"""Support for driving databasin-mcp from outside: used by the tests, the benchmarks and `make demo`.

- `results`: a tool call bounded in time, and what its result says (`call`, `text`, `strings_of`).
- `processes`: the sandbox and server processes: started on a free port, ready when they announce
  where they listen (no sleeps), stopped and reaped whatever happens; `clean_env`.
- `children`: bounded child processes (a command run to its end or killed with what it started).
- `procfs`: what Linux says about a process (its children, memory, CPU time).
- `node`: the pinned npm MCP clients: which versions, where they are installed, how to run them.
- `upstreams`: a stand-in API served from a thread, for answers the sandbox does not give.

Nothing here imports pytest: a failure is an exception whose message says what was expected.
"""
