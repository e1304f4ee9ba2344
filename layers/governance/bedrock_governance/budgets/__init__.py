"""Budgets: one AWS Budget per project that owns Bedrock inference profiles, kept in step

(config, policy, render, job, cost_tags).
"""
