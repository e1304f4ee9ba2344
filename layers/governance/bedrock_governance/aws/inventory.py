"""The estate: application profiles of one region with their tags."""

from __future__ import annotations

from collections.abc import Callable

from bedrock_governance.aws import ports
from bedrock_governance.aws.bedrock import BedrockProfiles
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.tagging import TagReader
from bedrock_governance.core.errors import NotFound
from bedrock_governance.core.models import InferenceProfile


def list_profiles_with_tags(bedrock: ports.BedrockProfiles, tagging: ports.TagReader) -> list[InferenceProfile]:
    """All application profiles of one region with their tags: ceil(N/1000) list calls plus
    ceil(N/100) tag calls, plus one ``ListTagsForResource`` per profile the Tagging API left out.

    Bedrock's own answer is the truth for a left-out profile: never tagged (no tags), deleted
    since the listing (dropped), or not yet visible to the Tagging API (its real tags). A tagged
    estate costs no extra call. Any other failure of that read fails the region: no finding, mark
    or deletion may rest on tags that were not read.
    """
    profiles = bedrock.list_application_profiles()
    listed = tagging.tags_by_arn([profile.arn for profile in profiles])
    inventory: list[InferenceProfile] = []
    for profile in profiles:
        tags = listed.get(profile.arn)
        if tags is None:
            try:
                tags = bedrock.tags_of(profile.arn)
            except NotFound:
                continue
        inventory.append(profile.with_tags(tags))
    return inventory


def region_inventory(clients: ClientFactory) -> Callable[[str], list[InferenceProfile]]:
    def inventory(region: str) -> list[InferenceProfile]:
        return list_profiles_with_tags(BedrockProfiles(clients.bedrock(region)), TagReader(clients.tagging(region)))

    return inventory
