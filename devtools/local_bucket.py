"""What an S3 log stream wrote into a bucket on moto server: each object's key, size and
events (gzip NDJSON, one event per line), for seeing an S3 stream work under `make local`.

    python -m devtools.local_bucket acme-siem-archive --endpoint http://127.0.0.1:PORT
"""

import argparse
import gzip
import json

import boto3

from devtools.local_stack import DUMMY_CREDENTIALS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bucket")
    parser.add_argument("--endpoint", required=True, help="moto server (make local prints it)")
    args = parser.parse_args()
    s3 = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket):
        for found in page.get("Contents", []):
            key = found["Key"]
            body = s3.get_object(Bucket=args.bucket, Key=key)["Body"].read()
            if not key.endswith(".ndjson.gz"):
                print(f"{key}  {found['Size']} bytes")
                continue
            events = [json.loads(line) for line in gzip.decompress(body).splitlines() if line.strip()]
            total += len(events)
            kinds = f"{events[0]['event_type']} … {events[-1]['event_type']}" if events else ""
            print(f"{key}  {found['Size']} bytes  {len(events)} events  {kinds}")
    print(f"{total} events in all")


if __name__ == "__main__":
    main()
