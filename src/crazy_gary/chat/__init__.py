"""Chat: one agent turn per message, recorded as a task, with conversation history."""
