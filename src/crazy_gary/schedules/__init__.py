"""Cron schedules that create and start tasks, run by the durable engine's scheduler."""
