"""The deployment harness: a SAM template deployed to the embedded AWS, its handlers run in-process.

This is what proves that template and code agree. :func:`deploy_stack` expands the SAM transform
offline with ``samtranslator`` (:mod:`~stack_harness.template`), takes each function's and layer's
code from a fresh ``sam build`` or the sources (:mod:`~stack_harness.code`), uploads it to the
embedded S3 as ``sam deploy`` would (:mod:`~stack_harness.packaging`) and creates the expanded
template as a CloudFormation stack in moto (:mod:`~stack_harness.deploy`). Where moto's
CloudFormation cannot create a resource type, the harness creates the resource through moto's own
service API (:mod:`~stack_harness.resources`); what neither can create is recorded. Every such
resource is in :attr:`DeployedStack.unsupported_resources` and in one log line; nothing is dropped
silently.

:meth:`DeployedStack.invoke` runs a handler in this process (moto cannot run Lambda containers)
with exactly the environment the stack gave the function plus what the Lambda runtime sets
(:mod:`~stack_harness.invoke`).

Works in-process (inside :func:`embedded_aws.embedded_aws`) and against a moto server running in
the same process (``AWS_ENDPOINT_URL`` on a loopback address); it refuses to talk to real AWS
(:mod:`~stack_harness.aws`). Development only, like :mod:`embedded_aws`, which it deploys to and
never extends.
"""

from stack_harness.code import BUILD_DIR_NAME, default_build_dir
from stack_harness.deploy import deploy_stack
from stack_harness.errors import BuildError, LayerNotDeclaredError, StackDeploymentError, StackError
from stack_harness.invoke import FunctionConfig
from stack_harness.stack import DeployedStack, RolePolicy, UnsupportedResource

__all__ = [
    "BUILD_DIR_NAME",
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
