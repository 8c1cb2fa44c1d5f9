# Multi-Region keys with Terraform (issue 14): a primary in us-east-1 and its replica in
# eu-west-1 of the same Trent deployment (two provider configurations, one endpoint), an alias
# in each Region, then destroy. Driven by tests/terraform.rs.

variable "endpoint" {
  type = string
}

variable "step" {
  type    = number
  default = 1
}

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    kms = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
}

provider "aws" {
  alias                       = "west"
  region                      = "eu-west-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    kms = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
}

resource "aws_kms_key" "primary" {
  description             = "multi-Region primary"
  multi_region            = true
  deletion_window_in_days = 7
  enable_key_rotation     = true
}

resource "aws_kms_replica_key" "west" {
  provider                = aws.west
  description             = "replica in eu-west-1"
  primary_key_arn         = aws_kms_key.primary.arn
  deletion_window_in_days = 7
  tags = {
    side = "west"
  }
}

resource "aws_kms_alias" "east" {
  name          = "alias/tf-mrk"
  target_key_id = aws_kms_key.primary.key_id
}

resource "aws_kms_alias" "west" {
  provider      = aws.west
  name          = "alias/tf-mrk"
  target_key_id = aws_kms_replica_key.west.key_id
}

output "primary_arn" {
  value = aws_kms_key.primary.arn
}

output "replica_arn" {
  value = aws_kms_replica_key.west.arn
}
