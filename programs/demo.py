"""`make demo`: the whole application on the embedded AWS, as people would receive it.

Builds on what `sam build` produced: the real template.yaml is deployed to the embedded AWS as a
stack (exactly as the deployment tests do), a realistic estate is seeded, and the deployed
functions run through a short timeline. Every message is shown as it would read in a mail client
and saved under demo-output/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import shutil
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TextIO

import boto3

from bedrock_governance.aws.bedrock import BedrockProfiles
from bedrock_governance.core.notify import table
from bedrock_governance.idle.records import NEW_ARN_NOTICE, DeletionRecord
from bedrock_governance.profiles import restore_profile
from embedded_aws import embedded_aws
from embedded_aws.budgets import set_budget_clock
from embedded_aws.calls import ApiCalls, count_api_calls
from embedded_aws.inbox import SentMessage, sent_messages
from embedded_aws.organization import (
    OrganizationEstate,
    OrganizationSpec,
    remove_member_role,
    seed_organization,
)
from embedded_aws.seed import (
    ALLOWED_TAG_VALUES,
    DEFAULT_REGIONS,
    DEMO_PROFILES,
    Estate,
    SeededProfile,
    Usage,
    demo_spec,
    put_usage,
    seed_estate,
)
from stack_harness import DeployedStack, default_build_dir, deploy_stack

ROOT: Final = Path(__file__).resolve().parents[1]
TEMPLATE: Final = ROOT / "template.yaml"
STACK_NAME: Final = "bedrock-governance"
REGION: Final = "us-east-1"
ALERT_EMAIL: Final = "platform-alerts@example.com"
REPORT_EMAIL: Final = "finops@example.com"
REPORT_BUCKET: Final = "acme-bedrock-reports"
# Lines of each mail shown on screen; the whole mail is always saved under demo-output/.
SCREEN_LINES: Final = 60


# The demo's own output. Everything else written to stdout while it runs (the functions'
# Powertools JSON logs and metrics) goes to demo-output/function-logs.jsonl instead.
@dataclass
class Console:
    stream: TextIO = sys.stdout


CONSOLE = Console()


def say(text: str = "") -> None:
    print(text, file=CONSOLE.stream, flush=True)


@dataclass
class Demo:
    output: Path
    screen_lines: int
    started: float = field(default_factory=time.monotonic)
    mails: int = 0
    step: int = 0
    steps: int = 16

    def progress(self, message: str) -> None:
        self.step += 1
        say(f"\n[{self.step:>2}/{self.steps}] {message}  (+{time.monotonic() - self.started:.1f}s)")

    def note(self, message: str) -> None:
        say(f"        {message}")

    def mail(self, message: SentMessage, to: str, topic: str, slug: str) -> Path:
        self.mails += 1
        path = self.output / f"{self.mails:02d}-{slug}.txt"
        header = f"To: {to} (via {topic})\nSubject: {message.subject}\n"
        path.write_text(header + "\n" + message.text + "\n")
        lines = message.text.splitlines()
        rule = "-" * 78
        say(f"\n    {rule}\n    {header.rstrip().replace(chr(10), chr(10) + '    ')}\n    {rule}")
        for line in lines[: self.screen_lines]:
            say(f"    {line}")
        if len(lines) > self.screen_lines:
            say(f"    ... {len(lines) - self.screen_lines} more lines in {shown(path)}")
        say(f"    {rule}")
        return path


def shown(path: Path) -> str:
    """A path as a person types it: relative to the repository when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def last_monday(today: date) -> date:
    return today - timedelta(days=today.weekday())


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


class Mailbox:
    """New messages on a topic since the last look."""

    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn
        self.seen = 0

    def new(self) -> list[SentMessage]:
        messages = sent_messages(self.topic_arn)
        fresh = messages[self.seen :]
        self.seen = len(messages)
        return fresh


def run_function(stack: DeployedStack, logical_id: str, when: datetime) -> dict[str, Any]:
    """Invoke a deployed function with the event its schedule sends, at ``when``."""
    event = stack.scheduled_event(logical_id)
    result: dict[str, Any] = stack.invoke(logical_id, event, now=when)
    return result


def show_mails(demo: Demo, box: Mailbox, to: str, topic: str, slug: str) -> list[SentMessage]:
    messages = box.new()
    if not messages:
        demo.note(f"no message to {to}: nothing new to say")
    for message in messages:
        demo.mail(message, to, topic, slug)
    return messages


def show_budgets(demo: Demo) -> None:
    budgets = boto3.client("budgets", region_name=REGION)
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    rows = []
    for page in budgets.get_paginator("describe_budgets").paginate(AccountId=account):
        for budget in page["Budgets"]:
            spend = budget.get("CalculatedSpend", {})
            actual = spend.get("ActualSpend", {}).get("Amount", "0")
            forecast = spend.get("ForecastedSpend", {}).get("Amount", "-")
            notifications = budgets.describe_notifications_for_budget(
                AccountId=account, BudgetName=budget["BudgetName"]
            )
            alerts = ", ".join(
                f"{n['NotificationType'].lower()} {n['Threshold']:g}%" for n in notifications["Notifications"]
            )
            rows.append(
                (
                    budget["BudgetName"],
                    f"${float(budget['BudgetLimit']['Amount']):,.2f}",
                    f"${float(actual):,.2f}",
                    f"${float(forecast):,.2f}" if forecast != "-" else "-",
                    alerts,
                )
            )
    text = table(("Budget", "Monthly limit", "Actual MTD", "Forecast", "Alerts"), rows, frozenset({1, 2, 3}))
    for line in text.splitlines():
        say(f"        {line}")


def show_marks(demo: Demo, estate: Estate) -> None:
    rows = []
    for region in estate.spec.regions:
        tagging = boto3.client("resourcegroupstaggingapi", region_name=region)
        pages = tagging.get_paginator("get_resources").paginate(
            ResourceTypeFilters=["bedrock:application-inference-profile"],
            TagFilters=[{"Key": "governance:idle-since"}],
        )
        for page in pages:
            for mapping in page["ResourceTagMappingList"]:
                tags = {t["Key"]: t["Value"] for t in mapping["Tags"]}
                profile = next((p for p in estate.profiles if p.arn == mapping["ResourceARN"]), None)
                rows.append(
                    (
                        profile.name if profile else mapping["ResourceARN"],
                        region,
                        tags["governance:idle-since"],
                        tags.get("Owner", "-"),
                    )
                )
    if rows:
        for line in table(("Marked idle", "Region", "idle-since", "Owner"), sorted(rows)).splitlines():
            say(f"        {line}")
    else:
        demo.note("no profile carries an idle mark")


def bring_traffic_back(profile: SeededProfile, day: date) -> None:
    """Someone calls the profile again: CloudWatch gets Invocations datapoints for ``day``."""
    history = len(profile.daily_invocations)
    back = replace(profile, daily_invocations=(0,) * (history - 1) + (42,))
    put_usage(boto3.session.Session(), None, [back], day + timedelta(days=1))


def fix_one_violation(estate: Estate) -> SeededProfile | None:
    broken = next((p for p in estate.profiles if p.compliance.value == "value-near-miss"), None)
    if broken:
        bedrock = boto3.client("bedrock", region_name=broken.region)
        bedrock.tag_resource(resourceARN=broken.arn, tags=[{"key": "Environment", "value": broken.environment}])
    return broken


def turn_deletion_on(stack: DeployedStack) -> None:
    """What `sam deploy --parameter-overrides CleanupDryRun=false` changes in the deployed stack:
    the idle function's CLEANUP_DRY_RUN variable."""
    config = stack.function_config("IdleProfileFunction")
    lambda_client = boto3.client("lambda", region_name=REGION)
    env = lambda_client.get_function_configuration(FunctionName=config.function_name)["Environment"]["Variables"]
    env["CLEANUP_DRY_RUN"] = "false"
    lambda_client.update_function_configuration(FunctionName=config.function_name, Environment={"Variables": env})


def restore_first_deleted(demo: Demo, stack: DeployedStack) -> None:
    bucket = stack.outputs["GovernanceBucketName"]
    s3 = boto3.client("s3", region_name=REGION)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="deletion-records/").get("Contents", [])]
    demo.note(f"{len(keys)} deletion records in s3://{bucket}/deletion-records/")
    if not keys:
        return
    record = DeletionRecord.from_json(json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()))
    new_arn = restore_profile(record, BedrockProfiles(boto3.client("bedrock", region_name=record.region)))
    demo.note(f"restored {record.name!r} from s3://{bucket}/{keys[0]}")
    demo.note(f"  old ARN {record.old_arn}")
    demo.note(f"  new ARN {new_arn}")
    demo.note(f"  {NEW_ARN_NOTICE}")


def save_report_files(demo: Demo) -> list[Path]:
    s3 = boto3.client("s3", region_name=REGION)
    saved = []
    for item in s3.list_objects_v2(Bucket=REPORT_BUCKET).get("Contents", []):
        target = demo.output / Path(item["Key"]).name
        target.write_bytes(s3.get_object(Bucket=REPORT_BUCKET, Key=item["Key"])["Body"].read())
        saved.append(target)
        demo.note(f"s3://{REPORT_BUCKET}/{item['Key']}  ->  {shown(target)}")
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--profiles", type=int, default=DEMO_PROFILES, help=f"application profiles to seed (default {DEMO_PROFILES})"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "demo-output", help="where mails and reports go")
    parser.add_argument("--lines", type=int, default=SCREEN_LINES, help="lines of each mail shown on screen")
    args = parser.parse_args(argv)
    build_dir = default_build_dir(TEMPLATE)
    if not (build_dir / "template.yaml").exists():
        print("No build found: run `make demo` (it runs `sam build` first).", file=sys.stderr)
        return 2
    CONSOLE.stream = sys.stdout  # before the functions' output is sent to the log file
    shutil.rmtree(args.output, ignore_errors=True)
    args.output.mkdir(parents=True)
    demo = Demo(output=args.output, screen_lines=args.lines)
    monday = last_monday(datetime.now(UTC).date())
    say("Bedrock governance on the embedded AWS: no AWS account is used.")
    say(f"Simulated timeline starts Monday {monday:%d %b %Y}; mails and reports go to {args.output}.")

    with (
        (args.output / "function-logs.jsonl").open("w") as logs,
        contextlib.redirect_stdout(logs),
        embedded_aws(),
        count_api_calls() as calls,
    ):
        # The deployment harness's notes (what moto cannot create, and what it did instead) go
        # to the log file with the functions' logs.
        # So do moto's own notes (its Step Functions interpreter's) and Python warnings.
        logging.captureWarnings(True)
        for name in ("embedded_aws", "stack_harness", "moto", "samtranslator", "py.warnings"):
            harness_log = logging.getLogger(name)
            harness_log.addHandler(logging.StreamHandler(logs))
            harness_log.propagate = False
        return run_timeline(demo, args.profiles, monday, build_dir, calls)


@dataclass
class World:
    """What the timeline works on: the deployed stack, the seeded estate and the two inboxes."""

    stack: DeployedStack
    estate: Estate
    alerts: Mailbox
    reports: Mailbox


def deploy_and_seed(demo: Demo, profiles: int, monday: date, build_dir: Path) -> World:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=REPORT_BUCKET)
    set_budget_clock(monday)
    parameters = {
        "GovernedRegions": ",".join(DEFAULT_REGIONS),
        "AllowedTagValues": json.dumps(ALLOWED_TAG_VALUES),
        "AlertEmail": ALERT_EMAIL,
        "ReportEmail": REPORT_EMAIL,
        "ScheduleTimezone": "UTC",
        "ReportBucket": REPORT_BUCKET,
        "ProjectBudgetsUSD": json.dumps({"Chatbot": 2500, "Summarizer": 3000, "DocSearch": 600}),
        "DefaultMonthlyBudgetUSD": "1500",
        "ActivateCostAllocationTags": "true",
    }
    demo.progress(f"Deploying template.yaml (built by sam build) as stack {STACK_NAME!r}")
    stack = deploy_stack(TEMPLATE, stack_name=STACK_NAME, parameters=parameters, region=REGION, build_dir=build_dir)
    for key, value in parameters.items():
        demo.note(f"{key} = {value}")
    demo.note(f"{len(stack.resources)} resources; functions: {', '.join(sorted(stack.functions))}")
    demo.note(
        f"{len(stack.unsupported_resources)} resources moto's CloudFormation cannot create were made through "
        "their own APIs (details in function-logs.jsonl)"
    )

    demo.progress(f"Seeding an estate of {profiles} application inference profiles, 8 weeks of usage and costs")
    estate = seed_estate(demo_spec(at(monday, 0), profiles), progress=demo.note)
    counts = {usage.value: len(estate.where(usage=usage)) for usage in Usage}
    demo.note(f"usage: {counts}; cost ledger rows: {estate.ledger_rows:,}")
    sources = sum(1 for p in estate.profiles if ":inference-profile/" in p.source_arn)
    demo.note(f"sources: {len(estate.profiles) - sources} foundation models, {sources} system-defined profiles")
    return World(stack, estate, Mailbox(stack.outputs["AlertTopicArn"]), Mailbox(stack.outputs["ReportTopicArn"]))


def first_monday(demo: Demo, world: World, monday: date) -> list[Path]:
    stack = world.stack
    demo.progress(f"Mon {monday:%d %b} 06:00  BudgetFunction: one budget per project, cost allocation tags")
    summary = run_function(stack, "BudgetFunction", at(monday, 6))
    demo.note(f"created: {', '.join(summary['created']) or 'none'}; updated: {len(summary['updated'])}")
    show_budgets(demo)
    show_mails(demo, world.alerts, ALERT_EMAIL, "AlertTopic", "budgets")

    demo.progress(f"Mon {monday:%d %b} 06:30  IdleProfileFunction (CleanupDryRun=true): mark and warn")
    run_function(stack, "IdleProfileFunction", at(monday, 6, 30))
    show_mails(demo, world.alerts, ALERT_EMAIL, "AlertTopic", "idle-first-sweep")
    show_marks(demo, world.estate)

    demo.progress(f"Mon {monday:%d %b} 07:00  TagComplianceFunction: the first sweep sends the full digest")
    run_function(stack, "TagComplianceFunction", at(monday, 7))
    show_mails(demo, world.alerts, ALERT_EMAIL, "AlertTopic", "tag-compliance-digest")

    demo.progress(f"Mon {monday:%d %b} 08:00  CostReportFunction: last week's spend per project")
    run_function(stack, "CostReportFunction", at(monday, 8))
    show_mails(demo, world.reports, REPORT_EMAIL, "ReportTopic", "cost-report")
    return [path for path in save_report_files(demo) if path.suffix == ".html"]


def next_days(demo: Demo, world: World, tuesday: date) -> None:
    demo.progress(f"Tue {tuesday:%d %b}: a developer fixes a tag, traffic returns to one marked profile")
    fixed = fix_one_violation(world.estate)
    if fixed:
        demo.note(f"{fixed.name}: Environment set to {fixed.environment!r}")
    idle = world.estate.where(usage=Usage.IDLE)
    if idle:
        bring_traffic_back(idle[0], tuesday)
        demo.note(f"{idle[0].name}: 42 invocations on {tuesday:%d %b}")

    demo.progress(f"Tue {tuesday:%d %b} 07:00  TagComplianceFunction: only what changed is alerted")
    run_function(world.stack, "TagComplianceFunction", at(tuesday, 7))
    show_mails(demo, world.alerts, ALERT_EMAIL, "AlertTopic", "tag-compliance-changes")
    run_function(world.stack, "TagComplianceFunction", at(tuesday + timedelta(days=1), 7))
    demo.note("Wed 07:00: TagComplianceFunction again: nothing changed, so nothing is sent")
    show_mails(demo, world.alerts, ALERT_EMAIL, "AlertTopic", "tag-compliance-repeat")


def after_grace(demo: Demo, world: World, later: date) -> None:
    demo.progress(f"{later:%a %d %b} 06:30  IdleProfileFunction after the grace period (still a dry run)")
    run_function(world.stack, "IdleProfileFunction", at(later, 6, 30))
    show_mails(demo, world.alerts, ALERT_EMAIL, "AlertTopic", "idle-after-grace-dry-run")

    demo.progress("The platform team turns deletion on (sam deploy --parameter-overrides CleanupDryRun=false)")
    turn_deletion_on(world.stack)
    run_function(world.stack, "IdleProfileFunction", at(later, 6, 45))
    show_mails(demo, world.alerts, ALERT_EMAIL, "AlertTopic", "idle-deletions")

    demo.progress("Re-creating a deleted profile from its deletion record")
    restore_first_deleted(demo, world.stack)


ORGANIZATION_STACK: Final = "bedrock-governance-org"
ORGANIZATION_REGIONS: Final = ("us-east-1", "eu-west-1")


def run_state_machine(stack: DeployedStack, logical_id: str, when: datetime) -> dict[str, Any]:
    """Start the state machine as its schedule would at ``when``, and wait for it."""
    execution = stack.run_state_machine(logical_id, stack.schedule_input(logical_id), now=when)
    if execution["status"] != "SUCCEEDED":
        raise RuntimeError(f"{logical_id} {execution['status']}: {execution.get('error')} {execution.get('cause')}")
    output: dict[str, Any] = execution["output"]
    return output


def organization_timeline(demo: Demo, build_dir: Path) -> None:
    """The second timeline: the same stack, deployed once for a whole AWS Organization."""
    now = datetime.now(UTC).replace(microsecond=0)
    demo.progress("Organization scope: an AWS Organization of 3 OUs x 4 member accounts, 2 regions each")
    organization: OrganizationEstate = seed_organization(
        OrganizationSpec(regions=ORGANIZATION_REGIONS, now=now, member_roles=False)
    )
    for account in organization.accounts:
        state = "suspended" if account.suspended else "to be excluded" if account.excluded else "member"
        demo.note(f"{account.account_id} {account.name:<12} {account.ou:<9} {state}")
    excluded = [*organization.excluded_ids, organization.management_account_id]
    parameters = {
        "GovernanceScope": "ORGANIZATION",
        "GovernedRegions": ",".join(ORGANIZATION_REGIONS),
        "ExcludedAccountIds": ",".join(excluded),
        "AllowedTagValues": json.dumps(ALLOWED_TAG_VALUES),
        "AlertEmail": ALERT_EMAIL,
    }
    demo.progress(
        f"Deploying the stack in the management account as {ORGANIZATION_STACK!r} with GovernanceScope=ORGANIZATION"
    )
    stack = deploy_stack(
        TEMPLATE, stack_name=ORGANIZATION_STACK, parameters=parameters, region=REGION, build_dir=build_dir
    )
    demo.note("MemberRoleStackSet gave every member account the role BedrockGovernanceMember (never the management")
    demo.note("account); the schedules now start TagComplianceStateMachine and IdleProfileStateMachine")
    roleless = next(a for a in organization.accounts if not a.has_role)
    remove_member_role(roleless.account_id)
    demo.note(f"someone deletes the member role in {roleless.account_id} ({roleless.name})")
    alerts = Mailbox(stack.outputs["AlertTopicArn"])

    demo.progress("TagComplianceStateMachine: list targets, a Distributed Map of workers, one aggregation")
    summary = run_state_machine(stack, "TagComplianceStateMachine", now)
    demo.note(
        f"{summary['profilesChecked']} profiles in {len(summary['profilesByRegion'])} account-regions, "
        f"{summary['nonCompliantProfiles']} non-compliant, {len(summary['failedRegions'])} account-regions not checked"
    )
    show_mails(demo, alerts, ALERT_EMAIL, "AlertTopic", "organization-tag-compliance")

    demo.progress("IdleProfileStateMachine: idle marks written through each account's member role")
    summary = run_state_machine(stack, "IdleProfileStateMachine", now + timedelta(minutes=30))
    demo.note(f"marked idle: {summary['counts']['marked']} across the organization (CleanupDryRun=true)")
    show_mails(demo, alerts, ALERT_EMAIL, "AlertTopic", "organization-idle")


def run_timeline(demo: Demo, profiles: int, monday: date, build_dir: Path, calls: ApiCalls) -> int:
    world = deploy_and_seed(demo, profiles, monday, build_dir)
    html = first_monday(demo, world, monday)
    next_days(demo, world, monday + timedelta(days=1))
    after_grace(demo, world, monday + timedelta(days=15))
    organization_timeline(demo, build_dir)

    demo.progress("What happened")
    operations = calls.by_operation()
    demo.note(f"{demo.mails} mails written to {shown(demo.output)}/ (function logs: function-logs.jsonl)")
    if html:
        demo.note(f"HTML cost report with charts: {html[0]} (open it in a browser)")
    demo.note(f"AWS API calls made by the functions and the demo: {sum(operations.values()):,}")
    demo.note(f"finished in {time.monotonic() - demo.started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
