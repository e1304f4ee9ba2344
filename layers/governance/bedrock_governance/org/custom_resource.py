"""``Custom::OrganizationRoot``: the organization's root id, for the StackSet's deployment target.

CloudFormation sends the request and waits for the answer at the request's pre-signed
``ResponseURL``; an answer that never comes holds the stack for an hour, so every path answers,
failures included. Delete answers SUCCESS at once: nothing was created.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Final

from aws_lambda_powertools import Logger

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.errors import aws_call
from bedrock_governance.core.errors import AwsError, GovernanceError

logger = Logger(child=True)

PHYSICAL_ID_PREFIX: Final = "organization-root-"
RESPONSE_TIMEOUT_SECONDS: Final = 10

# (url, body) -> None; urllib by default, a fake in the unit tests.
Sender = Callable[[str, bytes], None]


def is_custom_resource_request(event: Mapping[str, Any]) -> bool:
    return isinstance(event, Mapping) and "RequestType" in event and "ResponseURL" in event


def _put(url: str, body: bytes) -> None:
    # CloudFormation's pre-signed URLs are HTTPS; plain HTTP only to this machine, where the
    # deployment harness stands in for CloudFormation.
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise GovernanceError(f"refusing to answer CloudFormation at {url[:60]!r}: not a pre-signed URL")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS):  # noqa: S310
        pass


def root_id(clients: ClientFactory) -> str:
    with aws_call("organizations", "ListRoots"):
        roots = clients.organizations().list_roots()["Roots"]
    if not roots:
        raise GovernanceError("Organizations lists no root: is this the management or delegated administrator account?")
    return str(roots[0]["Id"])


def handle(event: Mapping[str, Any], clients: ClientFactory, send: Sender = _put) -> dict[str, Any]:
    """Answer one CloudFormation request; the answer is also returned (for the logs)."""
    answer: dict[str, Any] = {
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "PhysicalResourceId": event.get("PhysicalResourceId") or f"{PHYSICAL_ID_PREFIX}{event.get('RequestId', '')}",
        "Status": "SUCCESS",
    }
    if event.get("RequestType") in {"Create", "Update"}:
        try:
            found = root_id(clients)
        except (AwsError, GovernanceError) as error:
            logger.exception("Organization root not read")
            answer |= {"Status": "FAILED", "Reason": str(error)[:1000]}
        else:
            answer |= {"PhysicalResourceId": f"{PHYSICAL_ID_PREFIX}{found}", "Data": {"RootId": found}}
    send(str(event["ResponseURL"]), json.dumps(answer).encode())
    return answer
