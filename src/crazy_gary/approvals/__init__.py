"""Tool approvals: a person's decision on a tool call an agent wants to make (issue 17),
and the intent log that lets a crash tell a write call that started from one that did not.
"""
