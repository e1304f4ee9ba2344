"""Governance for Amazon Bedrock application inference profiles.

This package is the one home of the shared code: the Lambda layer ships it, and the functions,
the command line, the tests and the demo import it.
"""

__version__ = "0.1.0"
