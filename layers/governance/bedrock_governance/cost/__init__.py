"""The weekly cost report: last week's Bedrock spend per project (config, policy, render, job)."""
