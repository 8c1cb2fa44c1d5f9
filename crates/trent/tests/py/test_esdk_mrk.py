"""The AWS Encryption SDK's multi-Region-key-aware providers against two Regions of one Trent
deployment (issue 14): a message encrypted under the us-east-1 primary decrypts through the
eu-west-1 replica, with the strict provider given the replica's ARN and with the discovery
provider pinned to eu-west-1. Run by tests/regions.rs with TRENT_ENDPOINT, PRIMARY_ARN,
REPLICA_ARN and the admin's credentials in the environment."""

import os
import sys

import aws_encryption_sdk
import botocore.session
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.key_providers.kms import (
    MRKAwareDiscoveryAwsKmsMasterKeyProvider,
    MRKAwareStrictAwsKmsMasterKeyProvider,
)

os.environ["AWS_ENDPOINT_URL_KMS"] = os.environ["TRENT_ENDPOINT"]
PRIMARY = os.environ["PRIMARY_ARN"]
REPLICA = os.environ["REPLICA_ARN"]


def session(region):
    s = botocore.session.Session()
    s.set_config_variable("region", region)
    return s


def main():
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    plaintext = os.urandom(10_000)
    context = {"purpose": "trent-mrk"}
    east = MRKAwareStrictAwsKmsMasterKeyProvider(key_ids=[PRIMARY], botocore_session=session("us-east-1"))
    ct, header = client.encrypt(source=plaintext, key_provider=east, encryption_context=context)
    assert header.encrypted_data_keys, header
    west = MRKAwareStrictAwsKmsMasterKeyProvider(key_ids=[REPLICA], botocore_session=session("eu-west-1"))
    pt, _ = client.decrypt(source=ct, key_provider=west)
    assert pt == plaintext, "the replica decrypts what the primary encrypted (strict)"
    discovery = MRKAwareDiscoveryAwsKmsMasterKeyProvider(discovery_region="eu-west-1", botocore_session=session("eu-west-1"))
    pt, _ = client.decrypt(source=ct, key_provider=discovery)
    assert pt == plaintext, "the replica decrypts what the primary encrypted (discovery)"
    print("all MRK ESDK checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}")
        sys.exit(1)
