"""What the model actually reads: real clients driven against local stand-ins for their model APIs.

Each client runs our stdio server itself; a scripted stand-in model asks for one tool call and logs
every request body, so the tool_result a client forwards (and the tool definitions and instructions
it sends) can be read back byte for byte and counted.
"""
