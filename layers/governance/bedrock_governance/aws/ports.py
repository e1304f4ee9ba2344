"""What the jobs need from AWS, as ``typing.Protocol``s: the adapters satisfy them, and so do test fakes.

A job is typed against these, never against an adapter class, so a fake with the same methods
type-checks as it is (no ``# type: ignore``). Each Protocol is the slice of one adapter that some
job calls; an adapter may offer more (the command line uses the rest):

=====================  ==================================  ==========================
Protocol               adapter                             used by
=====================  ==================================  ==========================
``BedrockProfiles``    :class:`aws.bedrock.BedrockProfiles`  inventory, idle
``ProfileCreator``     :class:`aws.bedrock.BedrockProfiles`  profiles (create, restore)
``ProfileCatalog``     :class:`aws.bedrock.BedrockProfiles`  profiles (create, restore)
``TagReader``          :class:`aws.tagging.TagReader`        inventory, idle
``TagWriter``          :class:`aws.tagging.TagWriter`        idle
``InvocationReader``   :class:`aws.cloudwatch.InvocationReader`  idle
``Publisher``          :class:`aws.sns.SnsPublisher`         every job
``StateStore``         :class:`aws.s3.JsonStore`             tags, budgets (alert memory)
``RecordStore``        :class:`aws.s3.JsonStore`             idle (deletion records)
``ReportStore``        :class:`aws.s3.JsonStore`             cost (HTML and CSV copies)
``BudgetReader``       :class:`aws.budgets.Budgets`          cost
``Budgets``            :class:`aws.budgets.Budgets`          budgets
``CostReports``        :class:`aws.costexplorer.CostExplorer`  cost
``CostTags``           :class:`aws.costexplorer.CostExplorer`  budgets
=====================  ==================================  ==========================

Types only: importing this module loads no boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from bedrock_governance.aws.bedrock import CreatedProfile
    from bedrock_governance.aws.budgets import BudgetDefinition
    from bedrock_governance.aws.costexplorer import TagActivationError
    from bedrock_governance.aws.organizations import OrganizationInfo
    from bedrock_governance.aws.s3 import StateRead, UnreadableObject
    from bedrock_governance.aws.tagging import TagWriteFailure
    from bedrock_governance.core.models import (
        BudgetSnapshot,
        InferenceProfile,
        NotificationSpec,
        Subscriber,
        UsageHistory,
    )
    from bedrock_governance.core.notify import Notification

T = TypeVar("T")


# --- Bedrock, tags, usage


class BedrockProfiles(Protocol):
    def list_application_profiles(self) -> list[InferenceProfile]: ...
    def list_system_profiles(self) -> list[Mapping[str, Any]]: ...
    def get_profile(self, identifier: str, /) -> Mapping[str, Any]: ...
    def delete_profile(self, identifier: str, /) -> None: ...
    def tag(self, arn: str, tags: Mapping[str, str], /) -> None: ...
    def untag(self, arn: str, keys: list[str], /) -> None: ...
    def tags_of(self, arn: str, /) -> dict[str, str]: ...


class ProfileCatalog(Protocol):
    def list_application_profiles(self) -> list[InferenceProfile]: ...
    def list_foundation_models(self) -> list[Mapping[str, Any]]: ...
    def list_system_profiles(self) -> list[Mapping[str, Any]]: ...


class ProfileCreator(Protocol):
    def create_profile(
        self,
        *,
        name: str,
        copy_from: str,
        tags: Mapping[str, str],
        description: str | None = None,
        client_request_token: str | None = None,
    ) -> CreatedProfile: ...


class TagReader(Protocol):
    def tags_by_arn(self, arns: Sequence[str], /) -> dict[str, dict[str, str]]: ...


class TagWriter(Protocol):
    def tag(self, arns: Sequence[str], tags: Mapping[str, str], /) -> dict[str, TagWriteFailure]: ...
    def untag(self, arns: Sequence[str], keys: Sequence[str], /) -> dict[str, TagWriteFailure]: ...


class InvocationReader(Protocol):
    def daily_invocations(
        self, profile_ids: Sequence[str], /, *, now: datetime, days: int
    ) -> dict[str, UsageHistory]: ...


# --- SNS, S3


class Publisher(Protocol):
    def publish(self, topic_arn: str, notification: Notification, /) -> str: ...


class StateStore(Protocol):
    def read_state(self, key: str, parse: Callable[[dict[str, Any]], T], /) -> StateRead[T]: ...
    def quarantine(self, unreadable: UnreadableObject, now: datetime, /) -> UnreadableObject: ...
    def put(self, key: str, document: dict[str, Any], /) -> str: ...


class RecordStore(Protocol):
    def get(self, key: str, /) -> dict[str, Any] | None: ...
    def put(self, key: str, document: dict[str, Any], /) -> str: ...


class ReportStore(Protocol):
    @property
    def bucket(self) -> str: ...
    def put_bytes(self, key: str, body: bytes, content_type: str, /) -> str: ...


# --- Budgets, Cost Explorer


class BudgetReader(Protocol):
    def describe_budgets(self) -> list[BudgetSnapshot]: ...


class Budgets(BudgetReader, Protocol):
    def describe_budget(self, budget_name: str, /) -> BudgetSnapshot: ...
    def notifications(self, budget_name: str, /) -> list[NotificationSpec]: ...
    def notifications_by_budget(self) -> dict[str, list[NotificationSpec]]: ...
    def subscribers(self, budget_name: str, notification: NotificationSpec, /) -> list[Subscriber]: ...
    def tags(self, budget_name: str, /) -> dict[str, str]: ...
    def create_budget(
        self,
        definition: BudgetDefinition,
        notifications: Sequence[tuple[NotificationSpec, Sequence[Subscriber]]],
        tags: Mapping[str, str],
        /,
    ) -> None: ...
    def update_budget(self, definition: BudgetDefinition, /) -> None: ...
    def delete_budget(self, budget_name: str, /) -> None: ...
    def create_notification(
        self, budget_name: str, notification: NotificationSpec, subscribers: Sequence[Subscriber], /
    ) -> None: ...
    def update_notification(self, budget_name: str, old: NotificationSpec, new: NotificationSpec, /) -> None: ...
    def delete_notification(self, budget_name: str, notification: NotificationSpec, /) -> None: ...
    def create_subscriber(
        self, budget_name: str, notification: NotificationSpec, subscriber: Subscriber, /
    ) -> None: ...
    def update_subscriber(
        self, budget_name: str, notification: NotificationSpec, old: Subscriber, new: Subscriber, /
    ) -> None: ...
    def delete_subscriber(
        self, budget_name: str, notification: NotificationSpec, subscriber: Subscriber, /
    ) -> None: ...
    def tag_budget(self, budget_name: str, tags: Mapping[str, str], /) -> None: ...


class CostExplorer(Protocol):
    def bedrock_service_names(self, start: date, end: date, /) -> tuple[str, ...]: ...
    def cost_allocation_tag_status(self, keys: Sequence[str], /) -> dict[str, str]: ...


class CostReports(CostExplorer, Protocol):
    def cost_and_usage(self, request: Mapping[str, Any], /) -> list[dict[str, Any]]: ...


class CostTags(CostExplorer, Protocol):
    def activate_cost_allocation_tags(self, keys: Sequence[str], /) -> list[TagActivationError]: ...


class OrganizationReader(Protocol):
    """DescribeOrganization in this account: raises AwsError (AWSOrganizationsNotInUseException
    when the account belongs to no organization)."""

    def describe(self) -> OrganizationInfo: ...
