# Driven by crates/trent/tests/terraform.rs: a plain `provider "aws"` whose endpoints name Trent.
# `var.step` 2 is the in-place update (description, tags, rotation period, key policy, identity
# policies) that must apply without replacing anything.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "endpoint" { type = string }
variable "step" {
  type    = number
  default = 1
}

locals {
  v2 = var.step >= 2
}

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    kms = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
}

data "aws_caller_identity" "me" {}

resource "aws_kms_key" "sym" {
  description             = local.v2 ? "tf symmetric v2" : "tf symmetric"
  deletion_window_in_days = 7
  enable_key_rotation     = true
  rotation_period_in_days = local.v2 ? 90 : 180
  tags                    = local.v2 ? { team = "b", owner = "ops" } : { team = "a" }
}

resource "aws_kms_key" "rsa" {
  description              = "tf rsa"
  customer_master_key_spec = "RSA_2048"
  key_usage                = "ENCRYPT_DECRYPT"
  deletion_window_in_days  = 7
}

resource "aws_kms_key" "ecc" {
  description              = "tf ecc"
  customer_master_key_spec = "ECC_NIST_P256"
  key_usage                = "SIGN_VERIFY"
  deletion_window_in_days  = 7
}

resource "aws_kms_key" "hmac" {
  description              = "tf hmac"
  customer_master_key_spec = "HMAC_256"
  key_usage                = "GENERATE_VERIFY_MAC"
  deletion_window_in_days  = 7
}

resource "aws_kms_alias" "sym" {
  name          = "alias/tf-sym"
  target_key_id = aws_kms_key.sym.key_id
}

resource "aws_kms_key_policy" "rsa" {
  key_id = aws_kms_key.rsa.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = local.v2 ? "RootV2" : "Root"
      Effect    = "Allow"
      Action    = "kms:*"
      Resource  = "*"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.me.account_id}:root" }
    }]
  })
}

resource "aws_iam_user" "app" {
  name = "tf-app"
  tags = { env = local.v2 ? "prod" : "test" }
}

resource "aws_iam_access_key" "app" {
  user = aws_iam_user.app.name
}

resource "aws_iam_group" "g" {
  name = "tf-group"
}

resource "aws_iam_group_membership" "m" {
  name  = "tf-members"
  users = [aws_iam_user.app.name]
  group = aws_iam_group.g.name
}

# Managed, attached to the group: Encrypt (step 2: a new default version adds ReEncrypt).
resource "aws_iam_policy" "use" {
  name = "tf-use"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = local.v2 ? ["kms:Encrypt", "kms:ReEncrypt*"] : ["kms:Encrypt"], Resource = "*" }]
  })
}

resource "aws_iam_group_policy_attachment" "a" {
  group      = aws_iam_group.g.name
  policy_arn = aws_iam_policy.use.arn
}

# Inline on the group: Decrypt (step 2: and GenerateDataKey).
resource "aws_iam_group_policy" "inline" {
  name  = "inline"
  group = aws_iam_group.g.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = local.v2 ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"], Resource = "*" }]
  })
}

resource "aws_iam_role" "r" {
  name = "tf-role"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { AWS = aws_iam_user.app.arn } }]
  })
  tags = { env = local.v2 ? "prod" : "test" }
}

resource "aws_iam_role_policy_attachment" "r" {
  role       = aws_iam_role.r.name
  policy_arn = aws_iam_policy.use.arn
}

resource "aws_kms_grant" "g" {
  name              = "tf-grant"
  key_id            = aws_kms_key.sym.key_id
  grantee_principal = aws_iam_role.r.arn
  operations        = ["Encrypt", "Decrypt"]
  constraints {
    encryption_context_equals = { dept = "eng" }
  }
}

resource "aws_kms_ciphertext" "c" {
  key_id    = aws_kms_key.sym.key_id
  plaintext = "terraform secret"
  context   = { dept = "eng" }
}

data "aws_kms_secrets" "s" {
  secret {
    name    = "greeting"
    payload = aws_kms_ciphertext.c.ciphertext_blob
    context = { dept = "eng" }
  }
}

data "aws_kms_public_key" "ecc" {
  key_id = aws_kms_key.ecc.arn
}

output "secret" {
  value     = data.aws_kms_secrets.s.plaintext["greeting"]
  sensitive = true
}
output "ciphertext" { value = aws_kms_ciphertext.c.ciphertext_blob }
output "public_key_spec" { value = data.aws_kms_public_key.ecc.customer_master_key_spec }
output "public_key_pem" { value = data.aws_kms_public_key.ecc.public_key_pem }
output "sym_key_id" { value = aws_kms_key.sym.key_id }
output "rsa_key_id" { value = aws_kms_key.rsa.key_id }
output "ecc_key_id" { value = aws_kms_key.ecc.key_id }
output "grant_id" { value = aws_kms_grant.g.grant_id }
output "app_access_key_id" { value = aws_iam_access_key.app.id }
output "app_secret" {
  value     = aws_iam_access_key.app.secret
  sensitive = true
}

# A second user: inline and directly attached policies, membership through
# aws_iam_user_group_membership, and a role with an inline policy.
resource "aws_iam_user" "other" {
  name = "tf-other"
}

resource "aws_iam_user_policy" "other" {
  name   = "inline"
  user   = aws_iam_user.other.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["kms:DescribeKey"], Resource = "*" }] })
}

resource "aws_iam_user_policy_attachment" "other" {
  user       = aws_iam_user.other.name
  policy_arn = aws_iam_policy.use.arn
}

# (Another group: aws_iam_group_membership "m" owns the whole membership of tf-group.)
resource "aws_iam_group" "g2" {
  name = "tf-group-2"
}

resource "aws_iam_user_group_membership" "other" {
  user   = aws_iam_user.other.name
  groups = [aws_iam_group.g2.name]
}

resource "aws_iam_role_policy" "r" {
  name   = "inline"
  role   = aws_iam_role.r.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["kms:Decrypt"], Resource = "*" }] })
}

# Data sources: a key by alias, an alias, and an AWS managed key's predefined alias (listed
# before the key exists; reading it creates the key, as in AWS).
data "aws_kms_key" "by_alias" {
  key_id = aws_kms_alias.sym.name
}

data "aws_kms_alias" "sym" {
  name = aws_kms_alias.sym.name
}

data "aws_kms_alias" "s3" {
  name = "alias/aws/s3"
}

output "key_by_alias_arn" { value = data.aws_kms_key.by_alias.arn }
output "alias_target_arn" { value = data.aws_kms_alias.sym.target_key_arn }
output "s3_key_id" { value = data.aws_kms_alias.s3.target_key_id }
