"""All S3 access of exports: the files (written in parts), the proof, the per-part leaf
indexes the proof is built from, and presigned downloads.

Keys, all under `exports/` (the lifecycle rule's prefix): `exports/<org>/<export_id>.csv`
or `.ndjson`, `exports/<org>/<export_id>.proof.json`, and
`exports/<org>/<export_id>/indexes/<part>.bin` (the leaf index of each event of that
part, 8 bytes each, little-endian). Uploading a part again under its number replaces it,
so a step that is run again rewrites what it wrote and nothing else.
"""

import sys
from array import array
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from audit_log import aws_clients

DOWNLOAD_VALIDITY = timedelta(minutes=10)
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8; header=present", "ndjson": "application/x-ndjson"}


def file_key(org_id: str, export_id: str, file_format: str) -> str:
    return f"exports/{org_id}/{export_id}.{file_format}"


def proof_key(org_id: str, export_id: str) -> str:
    return f"exports/{org_id}/{export_id}.proof.json"


def indexes_key(org_id: str, export_id: str, part: int) -> str:
    return f"exports/{org_id}/{export_id}/indexes/{part:05d}.bin"


def put(bucket: str, key: str, body: bytes, content_type: str) -> None:
    aws_clients.s3().put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def start_upload(bucket: str, key: str, content_type: str) -> str:
    answer = aws_clients.s3().create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)
    return answer["UploadId"]


def upload_part(bucket: str, key: str, upload_id: str, part: int, body: bytes) -> None:
    aws_clients.s3().upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=part, Body=body)


def complete_upload(bucket: str, key: str, upload_id: str, parts: int) -> None:
    """Join parts 1…`parts` (any later part a step wrote and a rerun did not is left
    out); an upload completed before (a rerun of this step) is left as it is."""
    s3 = aws_clients.s3()
    etags: dict[int, str] = {}
    try:
        for page in s3.get_paginator("list_parts").paginate(Bucket=bucket, Key=key, UploadId=upload_id):
            etags |= {part["PartNumber"]: part["ETag"] for part in page.get("Parts", [])}
    except s3.exceptions.NoSuchUpload:
        s3.head_object(Bucket=bucket, Key=key)  # completed already: the file is there
        return
    missing = [number for number in range(1, parts + 1) if number not in etags]
    if missing:
        raise RuntimeError(f"parts {missing[:5]} of the upload are not stored")
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in range(1, parts + 1)]},
    )


def abort_upload(bucket: str, key: str, upload_id: str) -> None:
    s3 = aws_clients.s3()
    try:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except s3.exceptions.NoSuchUpload:
        return


def put_indexes(bucket: str, key: str, indexes: Sequence[int]) -> None:
    data = array("Q", indexes)
    if data.itemsize != 8:
        raise RuntimeError("unsigned long long is not 8 bytes here")
    if sys.byteorder == "big":
        data.byteswap()
    put(bucket, key, data.tobytes(), "application/octet-stream")


def get_indexes(bucket: str, key: str) -> array:  # type: ignore[type-arg]
    data = array("Q")
    data.frombytes(aws_clients.s3().get_object(Bucket=bucket, Key=key)["Body"].read())
    if sys.byteorder == "big":
        data.byteswap()
    return data


def presigned_download(bucket: str, key: str, filename: str, content_type: str) -> str:
    """A GET URL for `key`, valid DOWNLOAD_VALIDITY, that saves as `filename`."""
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "ResponseContentDisposition": f'attachment; filename="{filename}"',
        "ResponseContentType": content_type,
    }
    url: str = aws_clients.s3_presigner().generate_presigned_url(
        "get_object", Params=params, ExpiresIn=int(DOWNLOAD_VALIDITY.total_seconds())
    )
    return url
