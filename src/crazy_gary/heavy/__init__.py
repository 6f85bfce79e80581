"""Heavy orchestration: multi-step tool workflows and the multi-agent heavy mode."""
