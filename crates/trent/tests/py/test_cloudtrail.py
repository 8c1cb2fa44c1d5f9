"""CloudTrail's LookupEvents over Trent's audit trail, driven by boto3 (issue 15): newest first,
paging with NextToken without repeats, the lookup attributes, the time range, CloudTrail's
errors, authorization by `cloudtrail:LookupEvents`, and the lookup recorded in the trail itself.
Run by tests/cloudtrail.rs with TRENT_ENDPOINT and the admin's credentials in the environment."""

import datetime
import json
import os
import sys

import boto3
import botocore.config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["TRENT_ENDPOINT"]


def client(service, **creds):
    return boto3.client(service, region_name="us-east-1", endpoint_url=ENDPOINT, **creds)


def expect_error(call, code):
    try:
        call()
    except ClientError as e:
        assert e.response["Error"]["Code"] == code, (code, e.response)
        return e
    raise AssertionError(f"expected {code}")


def main():
    kms, ct, iam = client("kms"), client("cloudtrail"), client("iam")
    key = kms.create_key(Description="audited")["KeyMetadata"]
    for _ in range(3):
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    expect_error(lambda: kms.decrypt(CiphertextBlob=b"\x01" * 80), "InvalidCiphertextException")

    first = ct.lookup_events(MaxResults=50)["Events"]
    times = [e["EventTime"] for e in first]
    assert times == sorted(times, reverse=True), "newest first"
    assert first[0]["EventName"] == "Decrypt", first[0]
    detail = json.loads(first[0]["CloudTrailEvent"])
    assert detail["errorCode"] == "InvalidCiphertextException", detail

    # Paging: every event exactly once, in the same order as one big page.
    seen, token = [], None
    while True:
        page = ct.lookup_events(MaxResults=3, **({"NextToken": token} if token else {}))
        seen += [e["EventId"] for e in page["Events"]]
        token = page.get("NextToken")
        if not token:
            break
    # The big page above was itself recorded (a LookupEvents event newer than everything).
    assert seen[0] != first[0]["EventId"], "the first lookup is in the trail"
    assert seen[1 : len(first) + 1] == [e["EventId"] for e in first][: len(seen) - 1], "same order, no repeats"
    assert len(seen) == len(set(seen)), "no event twice"

    by = lambda k, v: ct.lookup_events(LookupAttributes=[{"AttributeKey": k, "AttributeValue": v}])["Events"]
    on_key = by("ResourceName", key["Arn"])
    assert {e["EventName"] for e in on_key} >= {"CreateKey", "Encrypt"}, on_key
    assert all(r["ResourceType"] == "AWS::KMS::Key" for e in on_key for r in e["Resources"]), on_key
    assert len(by("EventName", "Encrypt")) == 3
    assert all(e["Username"] == "root" for e in by("Username", "root"))
    assert all(e["ReadOnly"] == "true" for e in by("ReadOnly", "true"))
    assert by("EventSource", "cloudtrail.amazonaws.com"), "lookups are recorded"
    assert by("EventName", "NoSuchEvent") == []

    now = datetime.datetime.now(datetime.timezone.utc)
    assert ct.lookup_events(StartTime=now + datetime.timedelta(hours=1))["Events"] == []
    assert ct.lookup_events(EndTime=now - datetime.timedelta(days=1))["Events"] == []

    expect_error(lambda: ct.lookup_events(MaxResults=51), "InvalidMaxResultsException")
    # A member of the wrong type: AWS JSON's SerializationException, without parser positions.
    raw = boto3.client(
        "cloudtrail",
        region_name="us-east-1",
        endpoint_url=ENDPOINT,
        config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}),
    )
    e = expect_error(lambda: raw.lookup_events(MaxResults="many"), "SerializationException")
    assert "line" not in e.response["Error"]["Message"], e.response
    expect_error(lambda: ct.lookup_events(NextToken="not-a-token"), "InvalidNextTokenException")
    expect_error(
        lambda: ct.lookup_events(StartTime=now, EndTime=now - datetime.timedelta(hours=1)),
        "InvalidTimeRangeException",
    )
    expect_error(
        lambda: ct.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "Encrypt"},
                {"AttributeKey": "Username", "AttributeValue": "root"},
            ]
        ),
        "InvalidLookupAttributesException",
    )
    expect_error(
        lambda: ct.lookup_events(LookupAttributes=[{"AttributeKey": "Colour", "AttributeValue": "x"}]),
        "InvalidLookupAttributesException",
    )

    # The trail's status: logging, its latest event, and (Trent's member, which boto3 leaves
    # out) the chains recomputed; an unknown trail is CloudTrail's error.
    status = ct.get_trail_status(Name="trent")
    assert status["IsLogging"] is True and status["LatestDeliveryTime"], status
    expect_error(lambda: ct.get_trail_status(Name="other"), "TrailNotFoundException")

    # Authorization: a user needs cloudtrail:LookupEvents from an identity policy.
    iam.create_user(UserName="auditor")
    ak = iam.create_access_key(UserName="auditor")["AccessKey"]
    auditor = client("cloudtrail", aws_access_key_id=ak["AccessKeyId"], aws_secret_access_key=ak["SecretAccessKey"])
    e = expect_error(lambda: auditor.lookup_events(), "AccessDeniedException")
    assert "cloudtrail:LookupEvents" in e.response["Error"]["Message"], e.response
    iam.put_user_policy(
        UserName="auditor",
        PolicyName="read-trail",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"}]}
        ),
    )
    assert auditor.lookup_events(MaxResults=1)["Events"]
    expect_error(lambda: auditor.get_trail_status(Name="trent"), "AccessDeniedException")
    print("all CloudTrail checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}")
        sys.exit(1)
