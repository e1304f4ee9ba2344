"""The embedded AWS: moto plus this project's extensions where moto falls short.

Development only: tests, the demo, the benchmark and local command-line runs use it; it is
never shipped in the Lambda layer. Call :func:`install` before starting ``moto.mock_aws`` or a
moto server; :func:`embedded_aws` does both for in-process use.
"""

from embedded_aws.extensions import embedded_aws, install

__all__ = ["embedded_aws", "install"]
