"""`bedrock-governance`: run the governance jobs now, from a laptop, against the caller's account.

Read-only by default: no tag writes, deletions, budget changes or messages unless a flag asks for
them. The jobs are the same code the Lambda functions run; their settings come from the same
environment variables (see template.yaml), and flags override them.

Exit codes: 0 done, 1 an AWS or runtime failure, 2 bad usage or settings, 3 findings present
(only with ``--fail-on-findings``), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bedrock_governance import __version__
from bedrock_governance.aws.bedrock import BedrockProfiles
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.errors import aws_call, translate
from bedrock_governance.aws.s3 import JsonStore
from bedrock_governance.budget_job import BudgetJob
from bedrock_governance.config import (
    BudgetConfig,
    CostReportConfig,
    IdleConfig,
    TagComplianceConfig,
    tag_policy_from_env,
)
from bedrock_governance.cost_report_job import CostReportJob
from bedrock_governance.deletion_records import NEW_ARN_NOTICE, DeletionRecord, restore_profile
from bedrock_governance.errors import (
    AccessDenied,
    ConfigError,
    GovernanceError,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    Throttled,
)
from bedrock_governance.idle import IDLE_ACTIONS
from bedrock_governance.idle_job import IdleProfileJob
from bedrock_governance.notify import Notification
from bedrock_governance.profile_source import resolve_copy_source
from bedrock_governance.tag_compliance import TagComplianceJob
from bedrock_governance.tag_policy import evaluate_tags

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 3
EXIT_INTERRUPTED = 130

# Settings the jobs need that a read-only run never uses (nothing is published or written):
# placeholders keep one configuration code path for the CLI and the functions.
_UNUSED_TOPIC_NAME = "bedrock-governance-cli-unused"
_UNUSED_BUCKET = "bedrock-governance-cli-unused"


class UsageError(GovernanceError):
    """The command line asks for something that cannot be done as asked."""


@dataclass(frozen=True)
class Context:
    args: argparse.Namespace
    clients: ClientFactory
    session: boto3.session.Session
    out: TextIO

    @property
    def home_region(self) -> str:
        region = self.args.region or self.session.region_name
        if not region:
            raise UsageError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
        return str(region)

    def account_id(self) -> str:
        with aws_call("sts", "GetCallerIdentity"):
            return str(self.clients.sts(self.home_region).get_caller_identity()["Account"])

    def env(self, **overrides: str | None) -> dict[str, str]:
        """The settings a function would see: this process's environment, then flags."""
        values = dict(os.environ)
        values["AWS_REGION"] = self.home_region
        if self.args.regions:
            values["GOVERNED_REGIONS"] = self.args.regions
        values.update({key: value for key, value in overrides.items() if value is not None})
        return values

    def topic(self, flag_value: str | None, env_name: str) -> str:
        if flag_value:
            return flag_value
        if os.environ.get(env_name):
            return os.environ[env_name]
        return f"arn:aws:sns:{self.home_region}:{self.account_id()}:{_UNUSED_TOPIC_NAME}"


# --- output -----------------------------------------------------------------------------------


def _emit(ctx: Context, notification: Notification | None, summary: Mapping[str, Any], empty: str) -> None:
    if ctx.args.json:
        document = {"summary": summary, "report": dict(notification.document) if notification else None}
        print(json.dumps(document, indent=2, default=str, sort_keys=True), file=ctx.out)
        return
    if notification is None:
        print(empty, file=ctx.out)
    else:
        print(f"Subject: {notification.subject}\n", file=ctx.out)
        print(notification.text, file=ctx.out)


def _now(args: argparse.Namespace) -> datetime:
    if args.at:
        parsed = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


# --- check / report / sync ----------------------------------------------------------------------


def check_tags(ctx: Context) -> int:
    args = ctx.args
    config = TagComplianceConfig.from_env(
        ctx.env(
            ALERT_TOPIC_ARN=ctx.topic(args.topic_arn, "ALERT_TOPIC_ARN"),
            REQUIRED_TAG_KEYS=args.required_tags,
            ALLOWED_TAG_VALUES=args.allowed_values,
            STATE_BUCKET=None,
        )
    )
    job = TagComplianceJob.from_config(config, ctx.clients, dry_run=not args.publish)
    result = job.run(_now(args))
    _emit(ctx, result.notification, result.summary(), "All application inference profiles are tagged right.")
    return EXIT_FINDINGS if args.fail_on_findings and result.findings else _region_exit(result.failures)


def check_idle(ctx: Context) -> int:
    args = ctx.args
    if args.delete and not args.records_bucket:
        raise UsageError("--delete needs --records-bucket: nothing is deleted without a deletion record")
    config = IdleConfig.from_env(
        ctx.env(
            ALERT_TOPIC_ARN=ctx.topic(args.topic_arn, "ALERT_TOPIC_ARN"),
            GOVERNANCE_BUCKET=args.records_bucket or os.environ.get("GOVERNANCE_BUCKET") or _UNUSED_BUCKET,
            IDLE_DAYS=_str(args.idle_days),
            IDLE_GRACE_DAYS=_str(args.grace_days),
            MAX_DELETIONS_PER_RUN=_str(args.max_deletions),
            CLEANUP_DRY_RUN="false" if args.delete else "true",
        )
    )
    job = IdleProfileJob.from_config(
        config, ctx.clients, dry_run=not args.delete, read_only=not (args.apply or args.delete), publish=args.publish
    )
    result = job.run(_now(args))
    _emit(ctx, result.notification, result.summary(), "No idle application inference profiles.")
    idle = [o for o in result.outcomes if o.action in IDLE_ACTIONS]
    return EXIT_FINDINGS if args.fail_on_findings and idle else _region_exit(result.failures)


def report_cost(ctx: Context) -> int:
    args = ctx.args
    config = CostReportConfig.from_env(
        ctx.env(
            REPORT_TOPIC_ARN=ctx.topic(args.topic_arn, "REPORT_TOPIC_ARN"),
            ALERT_TOPIC_ARN=ctx.topic(args.alert_topic_arn, "ALERT_TOPIC_ARN"),
            COST_REPORT_TAG_KEY=args.tag_key,
            SCHEDULE_TIMEZONE=args.timezone,
            REPORT_BUCKET=args.report_bucket if args.publish else "",
        )
    )
    result = CostReportJob.from_config(config, ctx.clients, dry_run=not args.publish).run(_now(args))
    _emit(ctx, result.notification, result.summary(), "No report could be made.")
    return EXIT_FAILURE if result.access_problems else EXIT_OK


def sync_budgets(ctx: Context) -> int:
    args = ctx.args
    config = BudgetConfig.from_env(
        ctx.env(
            ALERT_TOPIC_ARN=ctx.topic(args.topic_arn, "ALERT_TOPIC_ARN"),
            ACCOUNT_ID=ctx.account_id(),
            PROJECT_BUDGETS_USD=args.project_budgets,
            DEFAULT_MONTHLY_BUDGET_USD=args.default_budget,
            BUDGET_ALERT_THRESHOLDS=args.thresholds,
            BUDGET_CLEANUP="true" if args.cleanup else None,
            ACTIVATE_COST_ALLOCATION_TAGS="true" if args.activate_tags else None,
            STATE_BUCKET=None,
        )
    )
    if args.apply and not (args.topic_arn or os.environ.get("ALERT_TOPIC_ARN")):
        raise UsageError("--apply needs --topic-arn: budget notifications must go to a real SNS topic")
    result = BudgetJob.from_config(config, ctx.clients, dry_run=not args.apply).run(_now(args))
    _emit(ctx, result.notification, result.summary(), "Budgets are in step with the profiles: nothing to do.")
    pending = result.plan is not None and bool(result.plan.creates or result.plan.updates)
    return EXIT_FINDINGS if args.fail_on_findings and pending else _region_exit(result.failures)


def _region_exit(failures: Sequence[object]) -> int:
    return EXIT_FAILURE if failures else EXIT_OK


def _str(value: object) -> str | None:
    return None if value is None else str(value)


# --- profiles -----------------------------------------------------------------------------------


def _parse_tags(items: Sequence[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag {item!r} is not KEY=VALUE")
        tags[key] = value
    return tags


def profiles_create(ctx: Context) -> int:
    args = ctx.args
    region = ctx.home_region
    tags = _parse_tags(args.tag)
    policy = tag_policy_from_env(ctx.env(REQUIRED_TAG_KEYS=args.required_tags, ALLOWED_TAG_VALUES=args.allowed_values))
    violations = evaluate_tags(tags, policy)
    if violations:
        lines = "\n".join(f"  - {violation.describe()}" for violation in violations)
        raise UsageError(f"refused: the tags do not follow the tag policy, nothing was created:\n{lines}")
    bedrock = BedrockProfiles(ctx.clients.bedrock(region))
    source = resolve_copy_source(args.model, region, bedrock.list_foundation_models(), bedrock.list_system_profiles())
    if args.dry_run:
        print(f"Would create {args.name!r} in {region} from {source.arn}\n  ({source.reason})", file=ctx.out)
        return EXIT_OK
    created = bedrock.create_profile(
        name=args.name,
        copy_from=source.arn,
        tags=tags,
        description=args.description,
        client_request_token=str(uuid.uuid4()),
    )
    if ctx.args.json:
        print(json.dumps({"inferenceProfileArn": created.arn, "copyFrom": source.arn}, indent=2), file=ctx.out)
        return EXIT_OK
    print(
        f"Created {created.arn}\n"
        f"  copied from {source.arn}\n  ({source.reason})\n\n"
        "Call a model through it with the profile ARN as the model id:\n"
        f"  aws bedrock-runtime converse --region {region} --model-id {created.arn} \\\n"
        '    --messages \'[{"role": "user", "content": [{"text": "Hello"}]}]\'\n'
        f'  boto3.client("bedrock-runtime", region_name="{region}").converse(modelId="{created.arn}", messages=[...])\n'
        "  (invoke_model takes the same ARN as modelId.)",
        file=ctx.out,
    )
    return EXIT_OK


def _load_record(ctx: Context, location: str) -> DeletionRecord:
    if location.startswith("s3://"):
        bucket, _, key = location.removeprefix("s3://").partition("/")
        document = JsonStore(ctx.clients.s3(ctx.home_region), bucket).get(key)
        if document is None:
            raise UsageError(f"no deletion record at {location}")
    else:
        try:
            document = json.loads(Path(location).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise UsageError(f"cannot read the deletion record {location}: {error}") from error
    return DeletionRecord.from_json(document)


def profiles_restore(ctx: Context) -> int:
    record = _load_record(ctx, ctx.args.record)
    if ctx.args.dry_run:
        print(f"Would re-create {record.name!r} in {record.region}:\n  {record.restore_command()}", file=ctx.out)
        return EXIT_OK
    arn = restore_profile(
        record, BedrockProfiles(ctx.clients.bedrock(record.region)), client_request_token=str(uuid.uuid4())
    )
    if ctx.args.json:
        print(json.dumps({"inferenceProfileArn": arn, "oldArn": record.old_arn}, indent=2), file=ctx.out)
    else:
        print(f"Re-created {record.name!r} as {arn}\n  (was {record.old_arn})\n{NEW_ARN_NOTICE}", file=ctx.out)
    return EXIT_OK


# --- parser -------------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="home region (default: AWS_REGION / your AWS config)")
    parser.add_argument("--regions", help="governed regions, comma-separated (default: GOVERNED_REGIONS or --region)")
    parser.add_argument("--profile", help="AWS named profile to use")
    parser.add_argument("--endpoint-url", help="send every AWS call here (AWS_ENDPOINT_URL is honoured too)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the readable report")
    parser.add_argument("--at", help="run as if at this ISO time (e.g. to replay a schedule)")


def _tag_policy_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--required-tags", help="comma-separated keys (default: REQUIRED_TAG_KEYS or the standard four)"
    )
    parser.add_argument("--allowed-values", help='JSON, e.g. {"Environment": ["dev", "prod"]}')


def _add_check(groups: Any) -> None:
    check = groups.add_parser("check", help="check tags or idle profiles").add_subparsers(
        dest="command", required=True, metavar="{tags,idle}"
    )
    tags = check.add_parser("tags", help="profiles missing required tags or with wrong values")
    _common(tags)
    _tag_policy_flags(tags)
    tags.add_argument("--publish", action="store_true", help="also publish the alert to --topic-arn")
    tags.add_argument("--topic-arn", help="SNS topic for --publish (default: ALERT_TOPIC_ARN)")
    tags.add_argument("--fail-on-findings", action="store_true", help="exit 3 when a profile violates the policy")
    tags.set_defaults(run=check_tags)

    idle = check.add_parser("idle", help="profiles without invocations for N days")
    _common(idle)
    idle.add_argument("--idle-days", type=int, help="days without invocations (default: IDLE_DAYS or 30)")
    idle.add_argument("--grace-days", type=int, help="days a mark stands before deletion (default: 14)")
    idle.add_argument("--max-deletions", type=int, help="deletion cap (default: 10)")
    idle.add_argument("--apply", action="store_true", help="write and remove idle marks (tags)")
    idle.add_argument("--delete", action="store_true", help="also delete profiles past the grace period")
    idle.add_argument("--records-bucket", help="S3 bucket for deletion records (required with --delete)")
    idle.add_argument("--publish", action="store_true", help="also publish the message to --topic-arn")
    idle.add_argument("--topic-arn", help="SNS topic for --publish (default: ALERT_TOPIC_ARN)")
    idle.add_argument("--fail-on-findings", action="store_true", help="exit 3 when a profile is idle")
    idle.set_defaults(run=check_idle)


def _add_report(groups: Any) -> None:
    report = groups.add_parser("report", help="reports").add_subparsers(dest="command", required=True, metavar="{cost}")
    cost = report.add_parser("cost", help="Bedrock spend per project for the last complete week")
    _common(cost)
    cost.add_argument("--tag-key", help="cost allocation tag to group by (default: Project)")
    cost.add_argument("--timezone", help="IANA zone weeks are counted in (default: SCHEDULE_TIMEZONE or UTC)")
    cost.add_argument(
        "--publish", action="store_true", help="publish to --topic-arn and write files to --report-bucket"
    )
    cost.add_argument("--topic-arn", help="SNS topic for the report (default: REPORT_TOPIC_ARN)")
    cost.add_argument("--alert-topic-arn", help="SNS topic for access problems (default: ALERT_TOPIC_ARN)")
    cost.add_argument("--report-bucket", help="S3 bucket for the HTML and CSV report (with --publish)")
    cost.set_defaults(run=report_cost)


def _add_sync(groups: Any) -> None:
    sync = groups.add_parser("sync", help="reconcile").add_subparsers(
        dest="command", required=True, metavar="{budgets}"
    )
    budgets = sync.add_parser("budgets", help="one AWS Budget per project, in step with the profiles")
    _common(budgets)
    _tag_policy_flags(budgets)
    budgets.add_argument("--project-budgets", help='JSON project -> monthly USD, e.g. {"Chatbot": 500}')
    budgets.add_argument("--default-budget", help="monthly USD for projects not named (default: 100)")
    budgets.add_argument("--thresholds", help="e.g. ACTUAL:80,ACTUAL:100,FORECASTED:100")
    budgets.add_argument("--cleanup", action="store_true", help="delete managed budgets of vanished projects")
    budgets.add_argument("--activate-tags", action="store_true", help="activate cost allocation tags")
    budgets.add_argument("--apply", action="store_true", help="create, update and delete budgets as planned")
    budgets.add_argument("--topic-arn", help="SNS topic budget notifications go to (required with --apply)")
    budgets.add_argument("--fail-on-findings", action="store_true", help="exit 3 when budgets are out of step")
    budgets.set_defaults(run=sync_budgets)


def _add_profiles(groups: Any) -> None:
    profiles = groups.add_parser("profiles", help="create or restore profiles the governed way").add_subparsers(
        dest="command", required=True, metavar="{create,restore}"
    )
    create = profiles.add_parser("create", help="create a tagged application profile, refusing bad tags")
    _common(create)
    _tag_policy_flags(create)
    create.add_argument("--name", required=True, help="profile name (1-64 letters, digits, space, _ or -)")
    create.add_argument("--model", required=True, help="model id, foundation-model ARN or system profile id")
    create.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="a tag (repeat)")
    create.add_argument("--description", help="profile description")
    create.add_argument("--dry-run", action="store_true", help="show what would be created")
    create.set_defaults(run=profiles_create)

    restore = profiles.add_parser("restore", help="re-create a deleted profile from its deletion record")
    _common(restore)
    restore.add_argument("record", help="s3://bucket/deletion-records/... or a local JSON file")
    restore.add_argument("--dry-run", action="store_true", help="show what would be re-created")
    restore.set_defaults(run=profiles_restore)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bedrock-governance",
        description="Governance for Amazon Bedrock application inference profiles, run from your machine. "
        "Read-only unless a flag asks for changes.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    groups = parser.add_subparsers(dest="group", required=True, metavar="{check,report,sync,profiles}")
    for add in (_add_check, _add_report, _add_sync, _add_profiles):
        add(groups)
    return parser


# --- errors -------------------------------------------------------------------------------------


def _one_line(error: BaseException) -> tuple[str, int]:
    """The one line a person reads for an error, and the exit code."""
    code = EXIT_FAILURE
    match error:
        case UsageError() | ConfigError():
            message, code = str(error), EXIT_USAGE
        case AccessDenied() if error.code == "NoCredentials":
            message = "no AWS credentials found: run `aws configure`, set AWS_PROFILE, or export AWS keys"
        case AccessDenied():
            message = f"access denied: {error.service}:{error.operation}: {error.aws_message}"
        case Throttled():
            message = f"throttled by AWS even after retries ({error.operation}): try again later"
        case NotFound() | InvalidRequest():
            message = f"{error.operation}: {error.aws_message}"
        case ServiceUnavailable():
            message = f"cannot reach AWS ({error.operation}): {error.aws_message}"
        case GovernanceError():
            message = str(error)
        case _:
            message = f"{type(error).__name__}: {error}"
    return message, code


def _check_region(session: boto3.session.Session, region: str | None) -> None:
    if not region:
        return
    known = set(session.get_available_regions("bedrock")) | set(session.get_available_regions("sts"))
    if region not in known:
        raise UsageError(f"unknown region {region!r} (Bedrock is offered in: {', '.join(sorted(known))})")


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[Context], int] = args.run
    try:
        session = boto3.session.Session(profile_name=args.profile) if args.profile else boto3.session.Session()
        for region in [args.region, *(args.regions.split(",") if args.regions else [])]:
            _check_region(session, region.strip() if region else None)
        ctx = Context(
            args=args, clients=ClientFactory(session, endpoint_url=args.endpoint_url), session=session, out=out
        )
        return run(ctx)
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return EXIT_INTERRUPTED
    except ClientError as error:
        message, code = _one_line(translate(error, "aws", "call"))
    except BotoCoreError as error:
        message, code = f"{type(error).__name__}: {error}", EXIT_FAILURE
    except (GovernanceError, ValueError) as error:
        message, code = _one_line(error)
    print(f"bedrock-governance: error: {message}", file=err)
    return code


def entry_point() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
