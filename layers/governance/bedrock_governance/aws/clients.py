"""The one client factory: every boto3 client of the project is made here, with one retry policy."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config

from bedrock_governance import __version__
from bedrock_governance.aws.errors import aws_call

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_budgets import BudgetsClient
    from mypy_boto3_ce import CostExplorerClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sts import STSClient

# Cost Explorer and Budgets are global services answered in us-east-1.
BILLING_REGION: Final = "us-east-1"

# Member-role sessions outlive the longest run (Lambda's 15 minutes) with room for retries; one
# hour is also the longest a role chain allows.
MEMBER_SESSION_SECONDS: Final = 3600

# Adaptive mode adds client-side rate limiting on top of standard retries, which is what a
# sweep over thousands of profiles wants when Bedrock's control plane starts throttling.
RETRY_CONFIG: Final = Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra=f"bedrock-governance/{__version__}",
)


class ClientFactory:
    """Creates and caches boto3 clients per (service, region).

    Clients are created under a lock (boto3 sessions are not thread-safe) and then shared by
    the worker threads that sweep regions concurrently (clients are thread-safe).
    """

    def __init__(
        self,
        session: boto3.session.Session | None = None,
        *,
        endpoint_url: str | None = None,
        config: Config = RETRY_CONFIG,
    ) -> None:
        self._session = session or boto3.session.Session()
        self._endpoint_url = endpoint_url
        self._config = config
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @property
    def default_region(self) -> str | None:
        return self._session.region_name

    def for_account(self, account_id: str, role_name: str, *, session_name: str, region: str) -> ClientFactory:
        """A factory whose clients act in ``account_id`` through its role ``role_name``.

        The role is assumed once (STS in ``region``, so an opt-in region's token is valid there);
        the factory shares this one's endpoint and retry policy. Raises the project's AwsError
        (AccessDenied for a missing role or one that does not trust the caller)."""
        partition = self._session.get_partition_for_region(region)
        role_arn = f"arn:{partition}:iam::{account_id}:role/{role_name}"
        with aws_call("sts", "AssumeRole"):
            credentials = self.sts(region).assume_role(
                RoleArn=role_arn, RoleSessionName=session_name[:64], DurationSeconds=MEMBER_SESSION_SECONDS
            )["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
        return ClientFactory(session, endpoint_url=self._endpoint_url, config=self._config)

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                # endpoint_url None lets boto3 honour AWS_ENDPOINT_URL and its service variants.
                self._clients[key] = self._session.client(
                    service,  # type: ignore[call-overload]
                    region_name=region,
                    endpoint_url=self._endpoint_url,
                    config=self._config,
                )
            return self._clients[key]

    def bedrock(self, region: str) -> BedrockClient:
        client: BedrockClient = self._client("bedrock", region)
        return client

    def tagging(self, region: str) -> ResourceGroupsTaggingAPIClient:
        client: ResourceGroupsTaggingAPIClient = self._client("resourcegroupstaggingapi", region)
        return client

    def cloudwatch(self, region: str) -> CloudWatchClient:
        client: CloudWatchClient = self._client("cloudwatch", region)
        return client

    def sns(self, region: str) -> SNSClient:
        client: SNSClient = self._client("sns", region)
        return client

    def s3(self, region: str) -> S3Client:
        client: S3Client = self._client("s3", region)
        return client

    def sts(self, region: str) -> STSClient:
        client: STSClient = self._client("sts", region)
        return client

    def organizations(self) -> OrganizationsClient:
        # Organizations answers in us-east-1 (aws) whatever region asks; boto3 knows its endpoint.
        client: OrganizationsClient = self._client("organizations", BILLING_REGION)
        return client

    def cost_explorer(self) -> CostExplorerClient:
        client: CostExplorerClient = self._client("ce", BILLING_REGION)
        return client

    def budgets(self) -> BudgetsClient:
        client: BudgetsClient = self._client("budgets", BILLING_REGION)
        return client
