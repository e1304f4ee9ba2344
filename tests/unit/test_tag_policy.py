from __future__ import annotations

import shlex

from hypothesis import given
from hypothesis import strategies as st

from bedrock_governance.tags.policy import TagPolicy, ViolationKind, evaluate_profile, evaluate_tags
from tests.unit.factories import profile

POLICY = TagPolicy(
    required_keys=("Project", "Environment", "CostCenter", "Owner"),
    allowed_values={"Environment": ("dev", "staging", "prod")},
)
COMPLIANT = {"Project": "Chatbot", "Environment": "prod", "CostCenter": "CC-1", "Owner": "alice"}


def kinds(tags: dict[str, str]) -> dict[str, ViolationKind]:
    return {v.key: v.kind for v in evaluate_tags(tags, POLICY)}


def test_compliant_tags_have_no_violation() -> None:
    assert evaluate_tags(COMPLIANT, POLICY) == ()


def test_missing_key_is_reported_with_allowed_values() -> None:
    tags = {k: v for k, v in COMPLIANT.items() if k != "Environment"}
    (violation,) = evaluate_tags(tags, POLICY)
    assert violation.kind is ViolationKind.MISSING_KEY
    assert violation.allowed == ("dev", "staging", "prod")
    assert "missing tag Environment" in violation.describe()


def test_blank_and_whitespace_values_are_violations() -> None:
    assert kinds(COMPLIANT | {"Owner": ""}) == {"Owner": ViolationKind.BLANK_VALUE}
    assert kinds(COMPLIANT | {"Owner": "   "}) == {"Owner": ViolationKind.BLANK_VALUE}


def test_value_outside_the_allowed_list() -> None:
    (violation,) = evaluate_tags(COMPLIANT | {"Environment": "production"}, POLICY)
    assert violation.kind is ViolationKind.VALUE_NOT_ALLOWED
    assert violation.found_value == "production"
    assert violation.suggestion is None


def test_value_differing_only_in_case_is_a_near_miss_with_the_right_spelling() -> None:
    (violation,) = evaluate_tags(COMPLIANT | {"Environment": "Prod"}, POLICY)
    assert violation.kind is ViolationKind.VALUE_NEAR_MISS
    assert violation.suggestion == "prod"


def test_key_differing_in_case_or_surrounding_space_is_a_near_miss() -> None:
    tags = {k: v for k, v in COMPLIANT.items() if k != "Project"} | {"project": "Chatbot"}
    (violation,) = evaluate_tags(tags, POLICY)
    assert violation.kind is ViolationKind.KEY_NEAR_MISS
    assert (violation.found_key, violation.key, violation.suggestion) == ("project", "Project", "Chatbot")

    tags = {k: v for k, v in COMPLIANT.items() if k != "Owner"} | {" Owner ": "bob"}
    (violation,) = evaluate_tags(tags, POLICY)
    assert violation.kind is ViolationKind.KEY_NEAR_MISS
    assert violation.found_key == " Owner "


def test_near_miss_key_suggests_the_allowed_spelling_of_its_value() -> None:
    tags = {k: v for k, v in COMPLIANT.items() if k != "Environment"} | {"environment": "PROD"}
    (violation,) = evaluate_tags(tags, POLICY)
    assert violation.suggestion == "prod"
    tags = {k: v for k, v in COMPLIANT.items() if k != "Environment"} | {"environment": "qa"}
    (violation,) = evaluate_tags(tags, POLICY)
    assert violation.suggestion is None


def test_allowed_values_apply_to_optional_keys_when_present() -> None:
    policy = TagPolicy(required_keys=("Project",), allowed_values={"Tier": ("gold", "silver")})
    assert evaluate_tags({"Project": "X"}, policy) == ()
    (violation,) = evaluate_tags({"Project": "X", "Tier": "bronze"}, policy)
    assert (violation.key, violation.kind) == ("Tier", ViolationKind.VALUE_NOT_ALLOWED)


def test_fix_commands_tag_and_untag_exactly_what_is_wrong() -> None:
    tags = {"project": "Chatbot", "Environment": "Prod", "Owner": "alice"}
    finding = evaluate_profile(profile(tags=tags), POLICY)
    assert finding is not None
    tag_cmd, untag_cmd = finding.fix_commands()
    tag_args = shlex.split(tag_cmd)
    assert tag_args[:3] == ["aws", "bedrock", "tag-resource"]
    assert tag_args[tag_args.index("--resource-arn") + 1] == finding.profile.arn
    assert tag_args[tag_args.index("--region") + 1] == "us-east-1"
    tag_items = tag_args[tag_args.index("--tags") + 1 :]
    assert "key=Project,value=Chatbot" in tag_items
    assert "key=Environment,value=prod" in tag_items
    assert "key=CostCenter,value=<CostCenter>" in tag_items
    untag_args = shlex.split(untag_cmd)
    assert untag_args[2] == "untag-resource"
    assert untag_args[untag_args.index("--tag-keys") + 1 :] == ["project"]


def test_fingerprint_changes_only_when_violations_change() -> None:
    first = evaluate_profile(profile(tags={"Project": "X"}), POLICY)
    same = evaluate_profile(profile(tags={"Project": "X", "Unrelated": "y"}), POLICY)
    different = evaluate_profile(profile(tags={"Project": "X", "Owner": "bob"}), POLICY)
    assert first is not None
    assert same is not None
    assert different is not None
    assert first.fingerprint == same.fingerprint
    assert first.fingerprint != different.fingerprint


tag_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._:/=+@-", max_size=20)


@given(st.dictionaries(tag_text, tag_text, max_size=8))
def test_every_required_key_is_either_satisfied_or_reported_once(tags: dict[str, str]) -> None:
    violations = evaluate_tags(tags, POLICY)
    reported = [v.key for v in violations if v.key in POLICY.required_keys]
    assert len(reported) == len(set(reported))
    for key in POLICY.required_keys:
        value = tags.get(key)
        allowed = POLICY.allowed_values.get(key)
        satisfied = value is not None and value.strip() != "" and (not allowed or value in allowed)
        assert satisfied == (key not in reported)


@given(st.dictionaries(tag_text, tag_text, max_size=8))
def test_applying_the_suggested_fix_leaves_only_choices_for_a_person(tags: dict[str, str]) -> None:
    fixed = dict(tags)
    for violation in evaluate_tags(tags, POLICY):
        if violation.kind is ViolationKind.KEY_NEAR_MISS and violation.found_key:
            fixed.pop(violation.found_key, None)
        if violation.suggestion is not None:
            fixed[violation.key] = violation.suggestion
    remaining = evaluate_tags(fixed, POLICY)
    # What is left is what nobody could guess: a missing value, a blank one or a disallowed one.
    assert all(v.suggestion is None for v in remaining)
