"""The agent loop: plan, act with tools until a final answer, within limits."""
