"""The driver's object operations on a live bucket (boto3; AWS_ENDPOINT_URL honoured): counting
before a replace, destroy or `--force-empty`, and emptying. Fresh sessions: boto3's default one
caches the first credentials it finds."""

from __future__ import annotations

import boto3
from botocore.exceptions import ClientError

from .errors import OperationError

COUNT_CAP = 1000  # one ListObjectVersions page: enough to say "holds objects" without reading millions


def object_version_count(bucket: str) -> int:
    """Object versions and delete markers, up to COUNT_CAP; 0 for a bucket that does not exist."""
    try:
        page = boto3.session.Session().client("s3").list_object_versions(Bucket=bucket, MaxKeys=COUNT_CAP)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0
        raise OperationError(f"{bucket}: cannot count its objects ({error.response['Error'].get('Code')})") from None
    return min(COUNT_CAP, len(page.get("Versions", [])) + len(page.get("DeleteMarkers", [])))


def empty_bucket(bucket: str) -> None:
    boto3.session.Session().resource("s3").Bucket(bucket).object_versions.delete()
