"""The deployment harness: a SAM template deployed to the embedded AWS, its handlers run in-process.

Development only, like :mod:`embedded_aws`, which it deploys to and never extends.
"""

from stack_harness.deploy import (
    BuildError,
    DeployedStack,
    FunctionConfig,
    LayerNotDeclaredError,
    RolePolicy,
    StackDeploymentError,
    StackError,
    UnsupportedResource,
    default_build_dir,
    deploy_stack,
)

__all__ = [
    "BuildError",
    "DeployedStack",
    "FunctionConfig",
    "LayerNotDeclaredError",
    "RolePolicy",
    "StackDeploymentError",
    "StackError",
    "UnsupportedResource",
    "default_build_dir",
    "deploy_stack",
]
