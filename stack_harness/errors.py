"""What the harness raises: a template, its build or its code that cannot be deployed as they are."""

from __future__ import annotations


class StackError(RuntimeError):
    """The template, its build or its code cannot be deployed as they are."""


class BuildError(StackError):
    """The ``sam build`` output is missing, stale or incomplete."""


class StackDeploymentError(StackError):
    """The embedded AWS could not create the stack."""

    def __init__(self, message: str, failed_resources: tuple[str, ...]) -> None:
        super().__init__(message)
        self.failed_resources = failed_resources


class LayerNotDeclaredError(StackError):
    """A function would run without a layer it needs (moto ignores Layers, the harness does not)."""
