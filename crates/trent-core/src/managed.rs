//! AWS managed keys (reference §5, §8): the first reference to `alias/aws/<service>` in
//! DescribeKey or a cryptographic operation creates that account's key for the service —
//! `KeyManager=AWS`, the AWS-style key policy, rotation on and yearly. Customers cannot delete,
//! disable, tag, re-policy, re-alias or use them directly: the key policy only lets the account
//! read metadata, and allows cryptographic use only through the service (`kms:ViaService`).

use std::sync::Arc;

use trent_api::KmsError;
use trent_store::{AliasRecord, StoreError};

use crate::credentials::Caller;
use crate::keys::LoadedKey;
use crate::ops::create_key::NewKey;
use crate::Kms;

/// Services with AWS managed keys (`alias/aws/<service>`).
pub const SERVICES: &[&str] = &[
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
pub fn policy(account: &str, region: &str, service: &str) -> String {
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
    /// Returns the AWS managed key of `alias/aws/<service>` in the caller's account, creating it
    /// on first use. `None` if the name is not a known service alias.
    pub(crate) async fn managed_key(&self, caller: &Caller, alias: &str) -> Result<Option<Arc<LoadedKey>>, KmsError> {
        let Some(service) = alias.strip_prefix("alias/aws/").filter(|s| SERVICES.contains(s)) else {
            return Ok(None);
        };
        let _guard = self.write.lock().await;
        if let Some(id) = self.alias_target(&caller.account_id, alias) {
            return self.load_key(&id).await;
        }
        let key = self
            .insert_key(NewKey {
                key_id: None,
                account_id: caller.account_id.clone(),
                description: format!("Default key that protects my {service} resources when no other key is defined"),
                key_spec: "SYMMETRIC_DEFAULT".to_owned(),
                key_usage: "ENCRYPT_DECRYPT".to_owned(),
                origin: "AWS_KMS".to_owned(),
                key_manager: "AWS".to_owned(),
                policy: policy(&caller.account_id, &self.loc.region, service),
                tags: Vec::new(),
                rotation_period_days: Some(365),
            })
            .await?;
        let now = self.now_ms();
        let record = AliasRecord {
            account_id: caller.account_id.clone(),
            name: alias.to_owned(),
            target_key_id: key.id().to_owned(),
            created_ms: now,
            updated_ms: now,
        };
        let r = record.clone();
        self.db(move |s| match s.create_alias(&r) {
            Err(StoreError::UniqueViolation) => Ok(()),
            other => other,
        })
        .await?;
        self.set_alias_target(&caller.account_id, alias, Some(key.id()));
        tracing::info!(key_arn = %key.arn, alias, "AWS managed key created on first use");
        Ok(Some(key))
    }
}
