"""Turn botocore errors into the project's exceptions, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from bedrock_governance.core.errors import (
    AccessDenied,
    AlreadyExists,
    AwsError,
    Conflict,
    DataUnavailable,
    InvalidRequest,
    LimitExceeded,
    NotFound,
    ServiceUnavailable,
    Throttled,
)

_BY_CODE: dict[str, type[AwsError]] = {
    "AccessDenied": AccessDenied,
    "AccessDeniedException": AccessDenied,
    "UnauthorizedOperation": AccessDenied,
    "UnrecognizedClientException": AccessDenied,
    "InvalidClientTokenId": AccessDenied,
    "ExpiredTokenException": AccessDenied,
    "AuthorizationError": AccessDenied,
    "ThrottlingException": Throttled,
    "Throttling": Throttled,
    "TooManyRequestsException": Throttled,
    "RequestLimitExceeded": Throttled,
    "LimitExceededException": LimitExceeded,
    "ResourceNotFoundException": NotFound,
    "NotFoundException": NotFound,
    "NoSuchKey": NotFound,
    "NoSuchBucket": NotFound,
    "NotFound": NotFound,
    "ConflictException": Conflict,
    "DuplicateRecordException": AlreadyExists,
    "ServiceQuotaExceededException": LimitExceeded,
    "CreationLimitExceededException": LimitExceeded,
    "TooManyTagsException": LimitExceeded,
    "ValidationException": InvalidRequest,
    "InvalidNextTokenException": InvalidRequest,
    "ExpiredNextTokenException": InvalidRequest,
    "ResourceLockedException": Conflict,
    "InvalidParameterException": InvalidRequest,
    "InvalidParameterValueException": InvalidRequest,
    "InvalidParameter": InvalidRequest,
    "BillExpirationException": DataUnavailable,
    "DataUnavailableException": DataUnavailable,
    "InternalServerException": ServiceUnavailable,
    "InternalErrorException": ServiceUnavailable,
    "InternalServiceError": ServiceUnavailable,
    "ServiceUnavailableException": ServiceUnavailable,
}


def translate(error: ClientError, service: str, operation: str) -> AwsError:
    """The project exception for a ``ClientError``; unknown codes become plain ``AwsError``."""
    details = error.response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    message = str(details.get("Message", "")) or str(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = Throttled if status == 429 else AccessDenied if status == 403 else AwsError
    return cls(service, operation, code, message)


@contextmanager
def aws_call(service: str, operation: str) -> Iterator[None]:
    """Run AWS calls and raise the project's exceptions instead of botocore's."""
    try:
        yield
    except ClientError as error:
        raise translate(error, service, operation) from error
    except NoCredentialsError as error:
        raise AccessDenied(service, operation, "NoCredentials", "no AWS credentials found") from error
    except BotoCoreError as error:
        raise ServiceUnavailable(service, operation, type(error).__name__, str(error)) from error
