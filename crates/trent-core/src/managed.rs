//! AWS managed keys (reference §5, §8): the first reference to `alias/aws/<service>` in
//! DescribeKey or a cryptographic operation creates that account's key for the service —
//! `KeyManager=AWS`, the AWS-style key policy, rotation on and yearly. Customers cannot delete,
//! disable, tag, re-policy, re-alias or use them directly: the key policy only lets the account
//! read metadata, and allows cryptographic use only through the service (`kms:ViaService`).

use std::sync::Arc;

use trent_api::KmsError;
use trent_store::{AliasRecord, StoreError};
use trent_types::{AccountId, AliasName, KeyManager, KeySpec, KeyUsage, Origin, Region};

use crate::authz::Lookup;
use crate::keys::LoadedKey;
use crate::lifecycle::{new_key_id, NewKey};
use crate::service::Kms;

/// Services with AWS managed keys (`alias/aws/<service>`).
pub(crate) const SERVICES: &[&str] = &[
    "acm",
    "backup",
    "cloud9",
    "codeartifact",
    "codecommit",
    "connect",
    "dms",
    "dynamodb",
    "ebs",
    "elasticfilesystem",
    "es",
    "fsx",
    "glue",
    "imagebuilder",
    "kafka",
    "kinesis",
    "kinesisvideo",
    "lambda",
    "lightsail",
    "logs",
    "rds",
    "redshift",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "timestream",
    "xray",
];

/// The key policy AWS attaches to AWS managed keys (`auto-<service>` documents).
pub(crate) fn policy(account: AccountId, region: &Region, service: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "auto-{service}-1",
  "Statement" : [ {{
    "Sid" : "Allow access through {service} for all principals in the account that are authorized to use {service}",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "*"
    }},
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {{
      "StringEquals" : {{
        "kms:CallerAccount" : "{account}",
        "kms:ViaService" : "{service}.{region}.amazonaws.com"
      }}
    }}
  }}, {{
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  }} ]
}}"#
    )
}

impl Kms {
    /// Returns the AWS managed key of `alias/aws/<service>` in `account` and `region` (AWS managed
    /// keys are per Region, as in AWS), creating it on first use. `None` if the name is not a
    /// known service alias.
    pub(crate) async fn managed_key(
        &self,
        authority: &Lookup,
        account: AccountId,
        region: &Region,
        alias: &AliasName,
    ) -> Result<Option<Arc<LoadedKey>>, KmsError> {
        let Some(service) = alias
            .as_str()
            .strip_prefix(AliasName::AWS_PREFIX)
            .filter(|s| SERVICES.contains(s))
        else {
            return Ok(None);
        };
        let _guard = self.managed_lock.lock().await;
        if let Some(id) = self.alias_target(account, region, alias) {
            return self.load_key(region, &id).await;
        }
        let key = self
            .insert_key(
                authority,
                NewKey {
                    key_id: new_key_id()?,
                    account_id: account,
                    region: region.clone(),
                    description: format!(
                        "Default key that protects my {service} resources when no other key is defined"
                    ),
                    key_spec: KeySpec::SymmetricDefault,
                    key_usage: KeyUsage::EncryptDecrypt,
                    origin: Origin::AwsKms,
                    key_manager: KeyManager::Aws,
                    policy: policy(account, region, service),
                    tags: Vec::new(),
                    rotation_period_days: Some(365),
                    material: None,
                    external: None,
                },
            )
            .await?;
        let now = self.now_ms();
        let record = AliasRecord {
            account_id: account,
            region: region.clone(),
            name: alias.clone(),
            target_key_id: *key.id(),
            created_ms: now,
            updated_ms: now,
        };
        self.write(authority, move |s| match s.create_alias(&record) {
            Err(StoreError::UniqueViolation) => Ok(()),
            other => other,
        })
        .await?;
        self.set_alias_target(account, region, alias, Some(*key.id()));
        tracing::info!(key_arn = %key.arn, alias = %alias, "AWS managed key created on first use");
        Ok(Some(key))
    }
}
