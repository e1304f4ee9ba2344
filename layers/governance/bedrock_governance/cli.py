"""`bedrock-governance`: run the governance jobs now, from a laptop, against the caller's account.

Read-only by default: no tag writes, deletions, budget changes or messages unless a flag asks for
them. The jobs are the same code the Lambda functions run; their settings come from the same
environment variables (see template.yaml), and flags override them.

Exit codes, the same for every command (a script can trust them):

====  ==========================================================================================
code  meaning
====  ==========================================================================================
0     done: the run finished and every action asked for was carried out
1     an AWS or runtime failure: a call or a region failed, usage could not be read, an action
      failed (an idle mark, a deletion or its deletion record, a budget change, a tag
      activation) or ``--publish`` / ``--apply`` could not publish its message. Wins over 3: a
      run that failed may have missed findings
2     bad usage or settings: a flag, setting, ``--at`` time, region or deletion record that
      cannot be used as given, or a profile AWS would refuse; said on stderr (one line, or a
      refusal followed by its list), nothing written
3     findings present (only with ``--fail-on-findings``)
130   interrupted (Ctrl-C)
141   stdout was closed before the output was written (``--json | head``): exits quietly, as a
      command killed by SIGPIPE does (128 + 13); what the run did is done
====  ==========================================================================================

Flags decide, not the shell: a destructive switch (``--delete``, ``--cleanup``,
``--activate-tags``) is off unless its flag is given, whatever CLEANUP_DRY_RUN, BUDGET_CLEANUP or
ACTIVATE_COST_ALLOCATION_TAGS say. ``--at`` replays any time read-only; a run that writes
(``check idle --apply``/``--delete``, ``sync budgets --apply``) accepts it only within the
scheduler's retry window of the real clock (see :mod:`bedrock_governance.events`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final, NoReturn, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bedrock_governance import __version__
from bedrock_governance.aws.bedrock import BedrockProfiles
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.errors import aws_call, translate
from bedrock_governance.aws.organizations import OrganizationDirectory
from bedrock_governance.aws.s3 import JsonStore
from bedrock_governance.budgets.config import BudgetConfig
from bedrock_governance.budgets.job import BudgetJob, BudgetRunResult
from bedrock_governance.budgets.policy import BudgetPlan, DesiredBudget
from bedrock_governance.core import events
from bedrock_governance.core.errors import (
    AccessDenied,
    ConfigError,
    GovernanceError,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    Throttled,
)
from bedrock_governance.core.models import RegionFailure
from bedrock_governance.core.notify import Notification, money
from bedrock_governance.core.results import RunResult
from bedrock_governance.core.settings import UnknownRegion, check_region
from bedrock_governance.cost.config import CostReportConfig
from bedrock_governance.cost.job import CostReportJob
from bedrock_governance.idle.config import IdleConfig
from bedrock_governance.idle.job import IdleProfileJob
from bedrock_governance.idle.organization import aggregate_idle
from bedrock_governance.idle.policy import IDLE_ACTIONS, IdleAction, OutcomeStatus
from bedrock_governance.idle.records import NEW_ARN_NOTICE, DeletionRecord, InvalidDeletionRecord
from bedrock_governance.org.config import OrganizationConfig, parse_account_ids
from bedrock_governance.org.job import OrganizationPlan, central_member_clients, list_targets
from bedrock_governance.org.policy import OrganizationJob, TargetSweep
from bedrock_governance.org.worker import sweep_all
from bedrock_governance.profiles import (
    ProfileRefused,
    create_planned,
    plan_create,
    plan_restore,
    restore_planned,
)
from bedrock_governance.tags.config import TagComplianceConfig, tag_policy_from_env
from bedrock_governance.tags.job import TagComplianceJob
from bedrock_governance.tags.organization import aggregate_tags
from bedrock_governance.tags.policy import TagPolicy

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader went away

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
    err: TextIO = sys.stderr

    @property
    def home_region(self) -> str:
        region, _ = home_region_of(self.args, self.session)
        if not region:
            raise UsageError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
        return region

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


def _decision_time(args: argparse.Namespace, *, writes: bool = False) -> datetime:
    """The time the run decides with: ``--at`` or the clock. Called before any AWS call.

    Any ``--at`` may be replayed read-only; a run that ``writes`` accepts it only within the
    bounded window of the real clock (:meth:`events.RunTime.for_writing`).
    """
    run = events.given_run_time(args.at or None, "--at")
    return run.for_writing() if writes else run.decision


# --- check / report / sync ----------------------------------------------------------------------


def _organization_config(ctx: Context) -> OrganizationConfig | None:
    """The organization scope the flags ask for (``--organization`` or ``--accounts``), else None."""
    args = ctx.args
    if not (args.organization or args.accounts):
        return None
    if args.organization and args.accounts:
        raise UsageError("--organization and --accounts exclude each other: pick the accounts one way")
    config = OrganizationConfig.from_env(
        ctx.env(
            GOVERNANCE_SCOPE="ORGANIZATION",
            ORGANIZATIONAL_UNIT_IDS=args.organizational_unit_ids,
            EXCLUDED_ACCOUNT_IDS=args.excluded_account_ids,
            MEMBER_ROLE_NAME=args.member_role,
            MAX_CONCURRENT_ACCOUNTS=_str(args.max_concurrent_accounts),
        )
    )
    if args.accounts:
        accounts = parse_account_ids(args.accounts, "--accounts")
        if not accounts:
            raise UsageError("--accounts needs at least one 12-digit account id")
        config = replace(config, accounts=accounts)
    return config


def _organization_sweeps(
    ctx: Context, organization: OrganizationConfig, job: OrganizationJob, regions: Sequence[str], now: datetime
) -> tuple[OrganizationPlan, list[TargetSweep]]:
    """The state machine's first two steps, on this machine: the targets, then a worker each."""
    directory = OrganizationDirectory(ctx.clients.organizations())
    plan = list_targets(organization, regions, directory)
    role = organization.member_role_name
    sweeps = sweep_all(
        job,
        plan,
        central_member_clients(ctx.clients, role, job),
        now=now,
        role_name=role,
        max_workers=organization.max_concurrent_accounts,
    )
    return plan, sweeps


def check_tags(ctx: Context) -> int:
    args = ctx.args
    now = _decision_time(args)
    organization = _organization_config(ctx)
    config = TagComplianceConfig.from_env(
        ctx.env(
            ALERT_TOPIC_ARN=ctx.topic(args.topic_arn, "ALERT_TOPIC_ARN"),
            REQUIRED_TAG_KEYS=args.required_tags,
            ALLOWED_TAG_VALUES=args.allowed_values,
            STATE_BUCKET=None,
        )
    )
    if organization is not None:
        plan, sweeps = _organization_sweeps(ctx, organization, OrganizationJob.TAG_COMPLIANCE, config.regions, now)
        result = aggregate_tags(config, ctx.clients, plan, sweeps, now, dry_run=not args.publish)
    else:
        result = TagComplianceJob.from_config(config, ctx.clients, dry_run=not args.publish).run(now)
    _emit(ctx, result.notification, result.summary(), "All application inference profiles are tagged right.")
    return _exit(ctx, _region_problems(result.failures) + _not_published(result), findings=bool(result.findings))


def check_idle(ctx: Context) -> int:
    args = ctx.args
    if args.delete and not args.records_bucket:
        raise UsageError("--delete needs --records-bucket: nothing is deleted without a deletion record")
    now = _decision_time(args, writes=args.apply or args.delete)
    organization = _organization_config(ctx)
    config = IdleConfig.from_env(
        ctx.env(
            ALERT_TOPIC_ARN=ctx.topic(args.topic_arn, "ALERT_TOPIC_ARN"),
            GOVERNANCE_BUCKET=args.records_bucket or os.environ.get("GOVERNANCE_BUCKET") or _UNUSED_BUCKET,
            IDLE_DAYS=_str(args.idle_days),
            IDLE_GRACE_DAYS=_str(args.grace_days),
            MAX_DELETIONS_PER_RUN=_str(args.max_deletions),
            MAX_NEWLY_IDLE_PERCENT=_str(args.max_newly_idle_percent),
            CLEANUP_DRY_RUN="false" if args.delete else "true",
        )
    )
    read_only = not (args.apply or args.delete)
    if organization is not None:
        job = OrganizationJob.IDLE_PROFILES
        plan, sweeps = _organization_sweeps(ctx, organization, job, config.regions, now)
        result = aggregate_idle(
            config,
            ctx.clients,
            plan,
            sweeps,
            now,
            clients_for=central_member_clients(ctx.clients, organization.member_role_name, job),
            dry_run=not args.delete,
            read_only=read_only,
            publish=args.publish,
        )
    else:
        result = IdleProfileJob.from_config(
            config, ctx.clients, dry_run=not args.delete, read_only=read_only, publish=args.publish
        ).run(now)
    _emit(ctx, result.notification, result.summary(), "No idle application inference profiles.")
    idle = [o for o in result.outcomes if o.action in IDLE_ACTIONS]
    problems = _region_problems(result.failures)
    not_done = [o for o in result.outcomes if o.status in _NOT_DONE]
    if not_done:
        first = not_done[0]
        problems.append(
            f"{len(not_done)} action(s) failed, e.g. {first.action.value} {first.decision.profile.name}: {first.detail}"
        )
    unknown = [o for o in result.outcomes if o.action is IdleAction.UNKNOWN]
    if unknown:
        problems.append(f"usage of {len(unknown)} profile(s) could not be read, so nothing was decided for them")
    # A held region is a run that could not do its job: a script must not read it as a clean run.
    problems += [f"circuit breaker: {trip.describe()}" for trip in result.facts.breaker_trips]
    problems += _not_published(result)
    return _exit(ctx, problems, findings=bool(idle))


def report_cost(ctx: Context) -> int:
    args = ctx.args
    now = _decision_time(args)
    config = CostReportConfig.from_env(
        ctx.env(
            REPORT_TOPIC_ARN=ctx.topic(args.topic_arn, "REPORT_TOPIC_ARN"),
            ALERT_TOPIC_ARN=ctx.topic(args.alert_topic_arn, "ALERT_TOPIC_ARN"),
            COST_REPORT_TAG_KEY=args.tag_key,
            SCHEDULE_TIMEZONE=args.timezone,
            REPORT_BUCKET=args.report_bucket if args.publish else "",
        )
    )
    result = CostReportJob.from_config(config, ctx.clients, dry_run=not args.publish).run(now)
    _emit(ctx, result.notification, result.summary(), "No report could be made.")
    problems = [f"cannot read {len(result.access_problems)} source(s) of the report"] if result.access_problems else []
    return _exit(ctx, problems + _not_published(result))


def sync_budgets(ctx: Context) -> int:
    args = ctx.args
    now = _decision_time(args, writes=args.apply)
    if args.apply and not (args.topic_arn or os.environ.get("ALERT_TOPIC_ARN")):
        raise UsageError("--apply needs --topic-arn: budget notifications must go to a real SNS topic")
    config = BudgetConfig.from_env(
        ctx.env(
            ALERT_TOPIC_ARN=ctx.topic(args.topic_arn, "ALERT_TOPIC_ARN"),
            ACCOUNT_ID=ctx.account_id(),
            PROJECT_BUDGETS_USD=args.project_budgets,
            DEFAULT_MONTHLY_BUDGET_USD=args.default_budget,
            BUDGET_ALERT_THRESHOLDS=args.thresholds,
            # Flags decide, not the shell: BUDGET_CLEANUP=true in the environment deletes nothing.
            BUDGET_CLEANUP=_switch(args.cleanup),
            ACTIVATE_COST_ALLOCATION_TAGS=_switch(args.activate_tags),
            STATE_BUCKET=None,
        )
    )
    result = BudgetJob.from_config(config, ctx.clients, dry_run=not args.apply).run(now)
    if args.apply or args.json:
        _emit(ctx, result.notification, result.summary(), "Budgets are in step with the profiles: nothing to do.")
    else:
        print(render_budget_plan(result, config, placeholder_topic=not _topic_given(args)), file=ctx.out)
    problems = _region_problems(result.failures) + [error.describe() for error in result.facts.errors]
    cost_tags = result.facts.cost_tags
    if args.apply and args.activate_tags and cost_tags is not None:
        problems += [
            _cli_words(problem.text)
            for problem in cost_tags.problems
            if problem.key.startswith(("cost-tags:failed:", "cost-tags:refused:"))
        ]
    pending = result.plan is not None and bool(result.plan.creates or result.plan.updates)
    return _exit(ctx, problems + _not_published(result), findings=pending)


def _topic_given(args: argparse.Namespace) -> bool:
    return bool(args.topic_arn or os.environ.get("ALERT_TOPIC_ARN"))


# What the jobs' messages call stack parameters, in the command line's words.
_CLI_WORDS: Final = (
    ("; kept because BudgetCleanup is off", "; kept: deleted only with --cleanup"),
    ("; BudgetCleanup is on", "; --cleanup is given"),
    ("BudgetAlertThresholds", "--thresholds"),
    ("ProjectBudgetsUSD", "--project-budgets"),
    ("DefaultMonthlyBudgetUSD", "the default budget (--default-budget)"),
    (
        "If this is that account, redeploy with ActivateCostAllocationTags=true and this function does it.",
        "If this is that account, --activate-tags --apply does it.",
    ),
    ("This function activates them then.", "--activate-tags --apply activates them then."),
    ("This function reports them as inactive then.", "They are reported as inactive then."),
)


def _cli_words(text: str) -> str:
    for stack_words, cli_words in _CLI_WORDS:
        text = text.replace(stack_words, cli_words)
    return text


def _budget_lines(budget: DesiredBudget, *, placeholder_topic: bool) -> list[str]:
    source = "--project-budgets" if budget.limit_source == "ProjectBudgetsUSD" else "the default, --default-budget"
    alerts = ", ".join(spec.describe() for spec in budget.notifications) + " of the limit"
    subscribers = ", ".join(
        "the SNS topic --topic-arn names (required with --apply)"
        if placeholder_topic and subscriber.kind == "SNS"
        else subscriber.describe()
        for subscriber in budget.subscribers
    )
    return [
        f"    limit {money(budget.limit)} a month ({source})",
        f"    alerts: {alerts}",
        f"    sent to: {subscribers}",
    ]


def _plan_lines(plan: BudgetPlan, *, placeholder_topic: bool) -> list[str]:
    lines: list[str] = []
    if plan.creates:
        lines += ["", f"Would create {len(plan.creates)}:"]
        for create in plan.creates:
            lines.append(f"  {create.budget.name} (project {create.budget.project}): {_cli_words(create.reason)}")
            lines += _budget_lines(create.budget, placeholder_topic=placeholder_topic)
    if plan.updates:
        lines += ["", f"Would update {len(plan.updates)}:"]
        for update in plan.updates:
            lines.append(f"  {update.budget.name} (project {update.budget.project}):")
            lines += [f"    - {_cli_words(reason)}" for reason in update.reasons]
            lines += _budget_lines(update.budget, placeholder_topic=placeholder_topic)
    if plan.deletes:
        lines += ["", f"Would delete {len(plan.deletes)} (--cleanup):"]
        lines += [f"  {orphan.name}: {_cli_words(orphan.reason)}" for orphan in plan.deletes]
    if plan.kept_orphans:
        lines += ["", f"Would keep {len(plan.kept_orphans)} budget(s) of vanished projects:"]
        lines += [f"  {orphan.name}: {_cli_words(orphan.reason)}" for orphan in plan.kept_orphans]
    if not (plan.creates or plan.updates or plan.deletes):
        lines += ["", "Nothing to create, update or delete: budgets are in step with the profiles."]
    return lines


def render_budget_plan(result: BudgetRunResult, config: BudgetConfig, *, placeholder_topic: bool) -> str:
    """What ``sync budgets`` without ``--apply`` would do, in the command line's own words."""
    facts = result.facts
    plan: BudgetPlan | None = result.plan
    lines = [
        "Budget plan (dry run: nothing was changed; --apply carries it out)",
        f"{len(facts.projects)} project(s) on application profiles in {', '.join(facts.regions)}; "
        f"{facts.in_step} budget(s) already in step.",
    ]
    if plan is None:
        lines.append("No plan: the account's budgets could not be read (see the errors below).")
    else:
        lines += _plan_lines(plan, placeholder_topic=placeholder_topic)
    if facts.conflicts:
        lines += ["", "Left alone:"] + [f"  {c.project}: {_cli_words(c.reason)}" for c in facts.conflicts]
    if facts.errors or facts.failures:
        lines += ["", "Errors:"]
        lines += [f"  {failure.describe()}" for failure in facts.failures]
        lines += [f"  {error.describe()}" for error in facts.errors]
    if facts.cost_tags is not None:
        inactive = [key for key, status in facts.cost_tags.statuses.items() if status == "Inactive"]
        if inactive and config.activate_cost_allocation_tags:
            lines += ["", f"Would activate cost allocation tags: {', '.join(inactive)} (--activate-tags)"]
        lines += ["", "Cost allocation tags:"] if facts.cost_tags.problems else []
        lines += [f"  {_cli_words(problem.text)}" for problem in facts.cost_tags.problems]
    return "\n".join(lines)


def _switch(flag: bool) -> str:
    """A destructive setting as the flag says: explicitly off unless the flag is given."""
    return "true" if flag else "false"


# What a run did not carry out although it was asked to (an error, not a decision).
_NOT_DONE: Final = frozenset({OutcomeStatus.FAILED, OutcomeStatus.IN_USE})


def _region_problems(failures: Sequence[RegionFailure]) -> list[str]:
    # Organization scope names account/region targets: "region failed" would mislead there.
    return [
        f"{'not checked' if '/' in failure.region else 'region failed'}: {failure.describe()}" for failure in failures
    ]


def _not_published(result: RunResult) -> list[str]:
    """The one rule for a failed publish: the run's output stands, and the command fails (exit 1)."""
    return [f"the message was not published: {result.alert_error}"] if result.alert_error else []


def _exit(ctx: Context, problems: Sequence[str], *, findings: bool = False) -> int:
    """1 with one line on stderr a problem (failures win over findings), 3 for findings when asked, else 0."""
    if problems:
        more = f" (and {len(problems) - 1} more: see the output)" if len(problems) > 1 else ""
        print(f"bedrock-governance: error: {problems[0]}{more}", file=ctx.err)
        return EXIT_FAILURE
    return EXIT_FINDINGS if findings and getattr(ctx.args, "fail_on_findings", False) else EXIT_OK


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


def _tag_policy(ctx: Context) -> TagPolicy:
    args = ctx.args
    return tag_policy_from_env(ctx.env(REQUIRED_TAG_KEYS=args.required_tags, ALLOWED_TAG_VALUES=args.allowed_values))


def profiles_create(ctx: Context) -> int:
    args = ctx.args
    region = ctx.home_region
    tags = _parse_tags(args.tag)
    policy = _tag_policy(ctx)
    bedrock = BedrockProfiles(ctx.clients.bedrock(region))
    plan = plan_create(
        name=args.name,
        model=args.model,
        tags=tags,
        description=args.description,
        region=region,
        policy=policy,
        catalog=bedrock,
    )
    source = plan.source
    if args.dry_run:
        print(
            f"Would create {args.name!r} in {region} from {source.arn}\n  ({source.reason})\n"
            "  (AWS's checks of the name, description and tags passed, and the name is free)",
            file=ctx.out,
        )
        return EXIT_OK
    created = create_planned(plan, bedrock)
    if ctx.args.json:
        print(json.dumps({"inferenceProfileArn": created.arn, "copyFrom": created.copy_from}, indent=2), file=ctx.out)
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
        if not bucket or not key:
            raise UsageError(f"{location} names no object: give s3://BUCKET/KEY of a deletion record")
        try:
            document: object = JsonStore(ctx.clients.s3(ctx.home_region), bucket).get(key)
        except ValueError as error:  # not JSON, or JSON but not an object
            raise UsageError(f"{location} is not a JSON deletion record") from error
        if document is None:
            raise UsageError(f"no deletion record at {location}")
    else:
        try:
            document = json.loads(Path(location).read_text())
        except OSError as error:
            raise UsageError(f"cannot read the deletion record {location}: {error.strerror or error}") from error
        except ValueError as error:  # JSONDecodeError, or bytes that are not text
            raise UsageError(f"{location} is not a JSON deletion record") from error
    try:
        return DeletionRecord.from_json(document)
    except InvalidDeletionRecord as error:
        raise UsageError(f"{location}: {error}") from error


def profiles_restore(ctx: Context) -> int:
    args = ctx.args
    record = _load_record(ctx, args.record)
    check_region(record.region, "the deletion record's region")
    if record.account and record.account != ctx.account_id():
        # An organization run's record: re-created anywhere else, the profile would bill the wrong account.
        raise UsageError(
            f"the record is of account {record.account}, these credentials are of {ctx.account_id()}: "
            f"run it with credentials of {record.account} (e.g. its member role)"
        )
    extra_tags = _parse_tags(args.tag)
    policy = _tag_policy(ctx)
    bedrock = BedrockProfiles(ctx.clients.bedrock(record.region))
    plan = plan_restore(record, extra_tags=extra_tags, policy=policy, catalog=bedrock)
    if args.dry_run:
        print(f"Would re-create {record.name!r} in {record.region}:\n  {plan.command}", file=ctx.out)
        return EXIT_OK
    restored = restore_planned(plan, bedrock)
    if ctx.args.json:
        print(json.dumps({"inferenceProfileArn": restored.arn, "oldArn": restored.old_arn}, indent=2), file=ctx.out)
    else:
        print(
            f"Re-created {record.name!r} as {restored.arn}\n  (was {restored.old_arn})\n{NEW_ARN_NOTICE}",
            file=ctx.out,
        )
    return EXIT_OK


# --- parser -------------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="home region (default: AWS_REGION / your AWS config)")
    parser.add_argument("--regions", help="governed regions, comma-separated (default: GOVERNED_REGIONS or --region)")
    parser.add_argument("--profile", help="AWS named profile to use")
    parser.add_argument("--endpoint-url", help="send every AWS call here (AWS_ENDPOINT_URL is honoured too)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the readable report")
    parser.add_argument(
        "--at",
        help="decide as if at this ISO time: any time read-only; with a write flag only within hours of now",
    )


def _tag_policy_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--required-tags", help="comma-separated keys (default: REQUIRED_TAG_KEYS or the standard four)"
    )
    parser.add_argument("--allowed-values", help='JSON, e.g. {"Environment": ["dev", "prod"]}')


def _organization_flags(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_argument_group("organization scope (run from the management or delegated admin account)")
    scope.add_argument(
        "--organization", action="store_true", help="every ACTIVE account of the organization, through its member role"
    )
    scope.add_argument(
        "--accounts", help="these accounts only, comma-separated 12-digit ids (Organizations not needed)"
    )
    scope.add_argument(
        "--member-role", help="role assumed in each account (default: MEMBER_ROLE_NAME or BedrockGovernanceMember)"
    )
    scope.add_argument(
        "--organizational-unit-ids",
        help="only accounts under these OUs, comma-separated (default: the whole organization)",
    )
    scope.add_argument("--excluded-account-ids", help="accounts left out, comma-separated")
    scope.add_argument("--max-concurrent-accounts", type=int, help="accounts x regions swept at once (default: 20)")


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
    _organization_flags(tags)
    tags.set_defaults(run=check_tags)

    idle = check.add_parser("idle", help="profiles without invocations for N days")
    _common(idle)
    idle.add_argument("--idle-days", type=int, help="days without invocations (default: IDLE_DAYS or 30)")
    idle.add_argument("--grace-days", type=int, help="days a mark stands before deletion (default: 14)")
    idle.add_argument("--max-deletions", type=int, help="deletion cap (default: 10)")
    idle.add_argument(
        "--max-newly-idle-percent",
        type=int,
        help="circuit breaker: hold a region where more than this share looks newly idle (default: 50)",
    )
    idle.add_argument("--apply", action="store_true", help="write and remove idle marks (tags)")
    idle.add_argument("--delete", action="store_true", help="also delete profiles past the grace period")
    idle.add_argument("--records-bucket", help="S3 bucket for deletion records (required with --delete)")
    idle.add_argument("--publish", action="store_true", help="also publish the message to --topic-arn")
    idle.add_argument("--topic-arn", help="SNS topic for --publish (default: ALERT_TOPIC_ARN)")
    idle.add_argument("--fail-on-findings", action="store_true", help="exit 3 when a profile is idle")
    _organization_flags(idle)
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
    create.add_argument(
        "--dry-run", action="store_true", help="run AWS's checks and show what would be created, creating nothing"
    )
    create.set_defaults(run=profiles_create)

    restore = profiles.add_parser("restore", help="re-create a deleted profile from its deletion record")
    _common(restore)
    _tag_policy_flags(restore)
    restore.add_argument("record", help="s3://bucket/deletion-records/... or a local JSON file")
    restore.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="add or change a tag of the record (repeat)"
    )
    restore.add_argument(
        "--dry-run", action="store_true", help="run AWS's checks and show what would be re-created, creating nothing"
    )
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

# The flags that set a setting, per command: a bad value is named as the user typed it.
_COMMON_FLAGS: Final = {"GOVERNED_REGIONS": "--regions", "AWS_REGION": "--region"}
_POLICY_FLAGS: Final = {"REQUIRED_TAG_KEYS": "--required-tags", "ALLOWED_TAG_VALUES": "--allowed-values"}
_ORGANIZATION_FLAGS: Final = {
    "ORGANIZATIONAL_UNIT_IDS": "--organizational-unit-ids",
    "EXCLUDED_ACCOUNT_IDS": "--excluded-account-ids",
    "MEMBER_ROLE_NAME": "--member-role",
    "MAX_CONCURRENT_ACCOUNTS": "--max-concurrent-accounts",
}
SETTING_FLAGS: Final[Mapping[str, Mapping[str, str]]] = {
    "check tags": {**_COMMON_FLAGS, **_POLICY_FLAGS, **_ORGANIZATION_FLAGS, "ALERT_TOPIC_ARN": "--topic-arn"},
    "check idle": {
        **_COMMON_FLAGS,
        **_ORGANIZATION_FLAGS,
        "ALERT_TOPIC_ARN": "--topic-arn",
        "GOVERNANCE_BUCKET": "--records-bucket",
        "IDLE_DAYS": "--idle-days",
        "IDLE_GRACE_DAYS": "--grace-days",
        "MAX_DELETIONS_PER_RUN": "--max-deletions",
        "MAX_NEWLY_IDLE_PERCENT": "--max-newly-idle-percent",
    },
    "report cost": {
        **_COMMON_FLAGS,
        "REPORT_TOPIC_ARN": "--topic-arn",
        "ALERT_TOPIC_ARN": "--alert-topic-arn",
        "COST_REPORT_TAG_KEY": "--tag-key",
        "SCHEDULE_TIMEZONE": "--timezone",
        "REPORT_BUCKET": "--report-bucket",
    },
    "sync budgets": {
        **_COMMON_FLAGS,
        **_POLICY_FLAGS,
        "ALERT_TOPIC_ARN": "--topic-arn",
        "PROJECT_BUDGETS_USD": "--project-budgets",
        "DEFAULT_MONTHLY_BUDGET_USD": "--default-budget",
        "BUDGET_ALERT_THRESHOLDS": "--thresholds",
    },
    "profiles create": {**_COMMON_FLAGS, **_POLICY_FLAGS},
    "profiles restore": {**_COMMON_FLAGS, **_POLICY_FLAGS},
}


def _flag_given(args: argparse.Namespace, flag: str) -> bool:
    value = getattr(args, flag.removeprefix("--").replace("-", "_"), None)
    # Identity, not equality: a typed 0 (``--idle-days 0``) is given, though 0 == False.
    return value is not None and value is not False and value != ""


def _setting_source(error: ConfigError, args: argparse.Namespace | None) -> str:
    """Where a bad setting came from: the flag the user typed, else the environment variable."""
    if args is not None:
        flag = SETTING_FLAGS.get(f"{args.group} {args.command}", {}).get(error.setting)
        if flag and _flag_given(args, flag):
            return flag
    return error.setting


def _config_message(error: ConfigError, args: argparse.Namespace | None) -> str:
    source = _setting_source(error, args)
    if isinstance(error, UnknownRegion):
        return f"unknown region {error.region!r} from {source} (Bedrock is offered in: {', '.join(error.known)})"
    if source.startswith("-"):
        return f"invalid {source}: {error.problem}"
    flag = SETTING_FLAGS.get(f"{args.group} {args.command}", {}).get(error.setting) if args is not None else None
    hint = f" (or pass {flag})" if flag else ""
    return f"invalid setting {error.setting} in the environment: {error.problem}{hint}"


def _one_line(error: BaseException, args: argparse.Namespace | None = None) -> tuple[str, int]:
    """The one line a person reads for an error, and the exit code."""
    code = EXIT_FAILURE
    match error:
        case ConfigError():
            message, code = _config_message(error, args), EXIT_USAGE
        case UsageError() | ProfileRefused() | events.InvalidRunTime():
            message, code = str(error), EXIT_USAGE
        case events.RunTimeOutOfBounds():
            message, code = f"{error}; without a write flag, --at replays any time read-only", EXIT_USAGE
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


def home_region_of(args: argparse.Namespace, session: boto3.session.Session) -> tuple[str | None, str]:
    """The home region and where it came from (for a message naming it)."""
    if args.region:
        return str(args.region).strip(), "--region"
    if session.region_name:
        region = str(session.region_name)
        if os.environ.get("AWS_DEFAULT_REGION", "").strip() == region:
            return region, "AWS_DEFAULT_REGION"
        return region, f"the region of AWS profile {args.profile or os.environ.get('AWS_PROFILE') or 'default'}"
    if os.environ.get("AWS_REGION", "").strip():
        return os.environ["AWS_REGION"].strip(), "AWS_REGION"
    return None, ""


def _check_regions(args: argparse.Namespace, session: boto3.session.Session) -> None:
    """Every region the command line was given, checked before any AWS call (one check: config's)."""
    region, source = home_region_of(args, session)
    if region:
        check_region(region, source)
    for governed in (args.regions or "").split(","):
        if governed.strip():
            check_region(governed.strip(), "--regions")


def _silence_stdout(out: TextIO) -> None:
    """After a broken pipe: point stdout at devnull so the interpreter's last flush cannot fail
    again (the recipe of the Python docs, "Note on SIGPIPE")."""
    if out is not sys.stdout:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[Context], int] = args.run
    try:
        session = boto3.session.Session(profile_name=args.profile) if args.profile else boto3.session.Session()
        _check_regions(args, session)
        ctx = Context(
            args=args,
            clients=ClientFactory(session, endpoint_url=args.endpoint_url),
            session=session,
            out=out,
            err=err,
        )
        code = run(ctx)
        out.flush()
        return code
    except BrokenPipeError:
        _silence_stdout(out)
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return EXIT_INTERRUPTED
    except ClientError as error:
        message, code = _one_line(translate(error, "aws", "call"), args)
    except BotoCoreError as error:
        message, code = f"{type(error).__name__}: {error}", EXIT_FAILURE
    except (GovernanceError, ValueError) as error:
        message, code = _one_line(error, args)
    print(f"bedrock-governance: error: {message}", file=err)
    return code


def entry_point() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
