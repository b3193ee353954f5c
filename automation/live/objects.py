"""The driver's object operations on a live bucket: counting before a replace, destroy or
`--force-empty`, and emptying; as the identity the stack's AWS provider uses (aws_session)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from automation.errors import OperationError
from automation.live.session import session_for

COUNT_CAP = 1000  # one ListObjectVersions page: enough to say "holds objects" without reading millions


def object_version_count(env: str, bucket: str) -> int:
    """Object versions and delete markers, up to COUNT_CAP; 0 for a bucket that does not exist.
    Anything else that stops the count is an OperationError: the gates refuse what they cannot count."""
    try:
        page = session_for(env).client("s3").list_object_versions(Bucket=bucket, MaxKeys=COUNT_CAP)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0
        raise OperationError(f"{bucket}: cannot count its objects ({error.response['Error'].get('Code')})") from None
    except BotoCoreError as error:
        raise OperationError(f"{bucket}: cannot count its objects ({str(error).splitlines()[0]})") from None
    return min(COUNT_CAP, len(page.get("Versions", [])) + len(page.get("DeleteMarkers", [])))


def empty_bucket(env: str, bucket: str) -> None:
    session_for(env).resource("s3").Bucket(bucket).object_versions.delete()
