"""IAM's SimulatePrincipalPolicy for KMS keys, driven by boto3 (issue 15: the console's "who can
do what with this key"): the decision and the statements or grant that made it, the encryption
context a grant constrains, explicit denies, authorization, and IAM's errors. Run by
tests/simulate.rs with TRENT_ENDPOINT and the admin's credentials in the environment."""

import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

ENDPOINT = os.environ["TRENT_ENDPOINT"]


def client(service, **creds):
    return boto3.client(service, region_name="us-east-1", endpoint_url=ENDPOINT, **creds)


def main():
    kms, iam = client("kms"), client("iam")
    account = client("sts").get_caller_identity()["Account"]
    key = kms.create_key()["KeyMetadata"]
    iam.create_user(UserName="sim")
    user = f"arn:aws:iam::{account}:user/sim"

    def one(principal, action, context=None):
        entries = [
            {"ContextKeyName": f"kms:EncryptionContext:{k}", "ContextKeyValues": [v], "ContextKeyType": "string"}
            for k, v in (context or {}).items()
        ]
        r = iam.simulate_principal_policy(
            PolicySourceArn=principal, ActionNames=[action], ResourceArns=[key["Arn"]], ContextEntries=entries
        )["EvaluationResults"]
        assert len(r) == 1 and r[0]["EvalActionName"] == action and r[0]["EvalResourceName"] == key["Arn"], r
        return r[0]

    r = one(user, "kms:Decrypt")
    assert r["EvalDecision"] == "implicitDeny", r
    assert [s["SourcePolicyType"] for s in r["MatchedStatements"]] == ["resource"], r
    kms.create_grant(
        KeyId=key["KeyId"],
        GranteePrincipal=user,
        Operations=["Decrypt"],
        Constraints={"EncryptionContextSubset": {"app": "billing"}},
    )
    assert one(user, "kms:Decrypt")["EvalDecision"] == "implicitDeny", "the grant's constraint is not met"
    r = one(user, "kms:Decrypt", {"app": "billing"})
    assert r["EvalDecision"] == "allowed", r
    assert any(s["SourcePolicyId"].startswith("grant/") for s in r["MatchedStatements"]), r
    iam.put_user_policy(
        UserName="sim",
        PolicyName="no-decrypt",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]}),
    )
    r = one(user, "kms:Decrypt", {"app": "billing"})
    assert r["EvalDecision"] == "explicitDeny", r
    assert any(s["SourcePolicyType"] == "user" for s in r["MatchedStatements"]), r
    assert one(f"arn:aws:iam::{account}:root", "kms:PutKeyPolicy")["EvalDecision"] == "allowed"

    def error(call):
        try:
            call()
        except ClientError as e:
            return e.response["Error"]["Code"]
        raise AssertionError("expected an error")

    assert error(lambda: one(f"arn:aws:iam::{account}:user/nobody", "kms:Decrypt")) == "NoSuchEntity"
    assert error(lambda: iam.simulate_principal_policy(PolicySourceArn=user, ActionNames=["kms:Decrypt"])) == "ValidationError"
    # Simulating needs iam:SimulatePrincipalPolicy.
    ak = iam.create_access_key(UserName="sim")["AccessKey"]
    sim_iam = client("iam", aws_access_key_id=ak["AccessKeyId"], aws_secret_access_key=ak["SecretAccessKey"])
    code = error(
        lambda: sim_iam.simulate_principal_policy(PolicySourceArn=user, ActionNames=["kms:Decrypt"], ResourceArns=[key["Arn"]])
    )
    assert code == "AccessDenied", code
    print("all SimulatePrincipalPolicy checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}")
        sys.exit(1)
