"""What every job shares: values, errors, run time, SNS envelope, text, settings, ARNs, batches, sweeps, metrics.

Nothing here imports a job package (``tags``, ``idle``, ``cost``, ``budgets``) or ``boto3``.
"""
