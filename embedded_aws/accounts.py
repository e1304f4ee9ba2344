"""Several accounts as AWS has them: AssumeRole checks the role and its trust.

moto's AssumeRole hands out credentials for any role ARN, existing or not, trusting or not; AWS
answers ``AccessDenied`` unless the role exists and its trust policy allows the caller. So does
the embedded AWS. (moto's ``CreateAccount`` already creates ``OrganizationAccountAccessRole``
trusting the management account, as AWS does: that is how a test reaches into a member account.)
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Final

from moto.core.exceptions import _RESTError as RESTError
from moto.iam.models import iam_backends
from moto.organizations.models import organizations_backends
from moto.sts.models import sts_backends
from moto.sts.responses import TokenResponse

ACCESS_ROLE: Final = "OrganizationAccountAccessRole"

_lock = threading.Lock()
_originals: dict[str, Any] = {}


class AssumeRoleDenied(RESTError):
    code = 403  # AWS's status for it; the error shape is not in STS's model

    def __init__(self, message: str) -> None:
        super().__init__("AccessDenied", message)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _organization_of(account_id: str) -> str | None:
    """The id of the organization ``account_id`` belongs to, if any (moto keeps one per management account)."""
    for backends in organizations_backends.values():
        for backend in backends.values():
            org = getattr(backend, "org", None)
            if org is None:
                continue
            members = {account.id for account in backend.accounts} | {backend.account_id}
            if account_id in members:
                return str(org.id)
    return None


def _principal_matches(principal: Any, caller_arn: str, caller_account: str, caller_role_arn: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    for entry in _as_list(principal.get("AWS", [])):
        text = str(entry)
        if text == "*" or text in {caller_arn, caller_role_arn}:
            return True
        # The account's root (or the bare account id) delegates to the account's own IAM policies.
        if text in {caller_account, f"arn:aws:iam::{caller_account}:root"}:
            return True
    return False


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    """The operators trust policies of this project use; an operator it does not know denies, as a
    policy the caller cannot satisfy would."""
    for operator, tests in condition.items():
        for key, expected in dict(tests).items():
            actual = context.get(key)
            wanted = [str(value) for value in _as_list(expected)]
            if operator in {"StringEquals", "ArnEquals"}:
                ok = actual is not None and actual in wanted
            elif operator in {"StringLike", "ArnLike"}:
                ok = actual is not None and any(fnmatch.fnmatchcase(actual, pattern) for pattern in wanted)
            else:
                return False
            if not ok:
                return False
    return True


def trust_allows(
    document: str | Mapping[str, Any], *, caller_arn: str, caller_account: str, caller_role_arn: str
) -> bool:
    """Whether a role's trust policy lets the caller assume it (an explicit Deny wins)."""
    policy = json.loads(document) if isinstance(document, str) else document
    context = {"aws:PrincipalArn": caller_role_arn or caller_arn, "aws:PrincipalAccount": caller_account}
    org_id = _organization_of(caller_account)
    if org_id:
        context["aws:PrincipalOrgID"] = org_id
    allowed = False
    for statement in _as_list(policy.get("Statement", [])):
        actions = [str(action) for action in _as_list(statement.get("Action", []))]
        if not any(fnmatch.fnmatchcase("sts:AssumeRole", action) for action in actions):
            continue
        if not _principal_matches(statement.get("Principal"), caller_arn, caller_account, caller_role_arn):
            continue
        if not _condition_holds(statement.get("Condition", {}), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


def _role_of_assumed(arn: str) -> str:
    """``arn:aws:iam::1:role/Name`` for the session ARN ``arn:aws:sts::1:assumed-role/Name/session``."""
    prefix, _, rest = arn.partition(":assumed-role/")
    if not rest:
        return ""
    account = prefix.rsplit(":", 1)[-1]
    partition = prefix.split(":")[1]
    return f"arn:{partition}:iam::{account}:role/{rest.split('/')[0]}"


def _assume_role(self: TokenResponse) -> Any:
    role_arn = str(self._get_param("RoleArn") or "")
    backend = sts_backends[self.current_account][self.partition]
    _, caller_arn, caller_account = backend.get_caller_identity(self.get_access_key(), self.region)
    denied = AssumeRoleDenied(
        f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("role/"):
        raise denied
    target_account = parts[4]
    try:
        role = iam_backends[target_account]["global"].get_role_by_arn(role_arn)
    except Exception:  # no such role: AWS says AccessDenied, never "not found"
        raise denied from None
    trusted = trust_allows(
        role.assume_role_policy_document,
        caller_arn=caller_arn,
        caller_account=caller_account,
        caller_role_arn=_role_of_assumed(caller_arn),
    )
    if not trusted:
        raise denied
    return _originals["assume_role"](self)


def member_role_arn(account_id: str, role_name: str = ACCESS_ROLE) -> str:
    return f"arn:aws:iam::{account_id}:role/{role_name}"


def install() -> None:
    """Install the multi-account fixes into moto. Idempotent."""
    with _lock:
        if _originals:
            return
        _originals["assume_role"] = TokenResponse.assume_role
        setattr(TokenResponse, "assume_role", _assume_role)  # noqa: B010


__all__: Sequence[str] = ("ACCESS_ROLE", "install", "member_role_arn", "role_credentials", "trust_allows")


def role_credentials(role_arn: str, session_name: str) -> dict[str, str]:
    """What a service (Lambda, for a function's execution role) gets when it assumes ``role_arn``:
    the session's keys, as environment variables. Services are trusted by the role's policy, so
    the caller-side trust check does not apply here."""
    account_id = role_arn.split(":")[4]
    backend = sts_backends[account_id]["aws"]
    session = backend.assume_role(
        region_name="us-east-1",
        role_session_name=session_name[:64],
        role_arn=role_arn,
        policy="",
        duration=3600,
        external_id="",
    )
    return {
        "AWS_ACCESS_KEY_ID": session.access_key_id,
        "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
        "AWS_SESSION_TOKEN": session.session_token,
    }
