"""Tag compliance: every application inference profile carries the required tags

(config, policy, render, job, state).
"""
