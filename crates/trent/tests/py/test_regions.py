"""boto3 across two Regions of one Trent deployment (issue 14): a multi-Region key made in
us-east-1 is replicated to eu-west-1; what one Region encrypts the other decrypts; the errors
of ReplicateKey come back as boto3 exceptions. Run by tests/regions.rs with TRENT_ENDPOINT and
the admin credentials in the environment."""

import os
import sys
import time

import boto3
from botocore.exceptions import ClientError


def client(region):
    return boto3.client("kms", region_name=region, endpoint_url=os.environ["TRENT_ENDPOINT"])


def code(e):
    return e.response["Error"]["Code"]


def main():
    east, west = client("us-east-1"), client("eu-west-1")
    key = east.create_key(MultiRegion=True, Description="boto3 primary")["KeyMetadata"]
    assert key["KeyId"].startswith("mrk-"), key
    replica = east.replicate_key(KeyId=key["KeyId"], ReplicaRegion="eu-west-1")["ReplicaKeyMetadata"]
    assert replica["Arn"].startswith("arn:aws:kms:eu-west-1:"), replica
    assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA", replica
    deadline = time.time() + 15
    while west.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] != "Enabled":
        assert time.time() < deadline, "the replica never became Enabled"
        time.sleep(0.1)
    ct = east.encrypt(KeyId=key["KeyId"], Plaintext=b"from boto3", EncryptionContext={"a": "b"})["CiphertextBlob"]
    out = west.decrypt(CiphertextBlob=ct, EncryptionContext={"a": "b"})
    assert out["Plaintext"] == b"from boto3", out
    assert out["KeyId"] == replica["Arn"], out
    dk = west.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
    assert east.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"]
    for call, expected in [
        (lambda: east.replicate_key(KeyId=key["KeyId"], ReplicaRegion="eu-west-1"), "AlreadyExistsException"),
        (lambda: west.replicate_key(KeyId=key["KeyId"], ReplicaRegion="us-east-1"), "UnsupportedOperationException"),
        (lambda: east.replicate_key(KeyId=key["KeyId"], ReplicaRegion="not a region"), "ValidationException"),
        (lambda: east.update_primary_region(KeyId=key["KeyId"], PrimaryRegion="sa-east-1"), "UnsupportedOperationException"),
        (lambda: west.describe_key(KeyId=key["Arn"]), "NotFoundException"),
    ]:
        try:
            call()
        except ClientError as e:
            assert code(e) == expected, (expected, e.response)
        else:
            raise AssertionError(f"expected {expected}")
    # IAM is global (signed for us-east-1): simulating on the replica looks it up in eu-west-1.
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=os.environ["TRENT_ENDPOINT"])
    account = replica["Arn"].split(":")[4]
    result = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{account}:root", ActionNames=["kms:Decrypt"], ResourceArns=[replica["Arn"]]
    )["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed" and result["EvalResourceName"] == replica["Arn"], result
    print("all Region checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}")
        sys.exit(1)
