"""Idle profiles: warn about idle application inference profiles and clean them up safely

(config, policy, render, job, records).
"""
