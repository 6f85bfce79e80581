"""Agent tasks: the durable unit of agent work (API, queue, workflow, stats)."""
