"""One ARN parser: ``arn:partition:service:region:account:resource``.

Region and account may be empty (a foundation model's ARN has no account; a global resource has
no region). The resource is split at its first ``/`` into type and id; a resource without ``/``
(an SNS topic name) has an empty type and is all id; a ``/`` with no type before it is malformed.
A model id may itself contain ``:`` (``anthropic.claude-3-haiku-20240307-v1:0``), so only the
first five ``:`` separate fields.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource_type: str
    resource_id: str

    @property
    def resource(self) -> str:
        """The resource part as written: ``type/id``, or the id alone when there is no type."""
        return f"{self.resource_type}/{self.resource_id}" if self.resource_type else self.resource_id

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(value: str) -> Arn:
    """The fields of ``value``; ValueError unless it is ``arn:`` followed by five ``:``-separated
    fields with a partition, a service and a resource."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"{value!r} is not an ARN")
    _, partition, service, region, account, resource = parts
    if not partition or not service or not resource:
        raise ValueError(f"{value!r} is not an ARN: partition, service and resource must not be empty")
    resource_type, slash, resource_id = resource.partition("/")
    if not slash:
        resource_type, resource_id = "", resource
    elif not resource_type:
        raise ValueError(f"{value!r} is not an ARN: empty resource type before '/'")
    return Arn(partition, service, region, account, resource_type, resource_id)


def region_of(arn: str) -> str:
    """The region of ``arn`` (empty for a global resource); ValueError if it is not an ARN."""
    return parse_arn(arn).region
