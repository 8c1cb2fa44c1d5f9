# External key stores with Terraform (issue 16): an `aws_kms_custom_key_store` of type
# EXTERNAL_KEY_STORE whose proxy is another Trent, then (step 2, once the test has connected it)
# an `aws_kms_key` in it backed by an external key, with an alias. Driven by tests/terraform.rs.

variable "endpoint" {
  type = string
}

variable "step" {
  type    = number
  default = 1
}

variable "xks_endpoint" {
  type = string
}

variable "xks_access_key_id" {
  type = string
}

variable "xks_secret" {
  type      = string
  sensitive = true
}

variable "xks_key_id" {
  type = string
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

resource "aws_kms_custom_key_store" "hyok" {
  custom_key_store_name  = "tf-hyok"
  custom_key_store_type  = "EXTERNAL_KEY_STORE"
  xks_proxy_uri_endpoint = var.xks_endpoint
  xks_proxy_uri_path     = "/kms/xks/v1"
  xks_proxy_connectivity = "PUBLIC_ENDPOINT"
  xks_proxy_authentication_credential {
    access_key_id         = var.xks_access_key_id
    raw_secret_access_key = var.xks_secret
  }
}

resource "aws_kms_key" "held" {
  count                   = var.step >= 2 ? 1 : 0
  description             = "held by an external key store"
  custom_key_store_id     = aws_kms_custom_key_store.hyok.id
  xks_key_id              = var.xks_key_id
  deletion_window_in_days = 7
}

resource "aws_kms_alias" "held" {
  count         = var.step >= 2 ? 1 : 0
  name          = "alias/tf-hyok"
  target_key_id = aws_kms_key.held[0].key_id
}

output "store_id" {
  value = aws_kms_custom_key_store.hyok.id
}

output "key_arn" {
  value = var.step >= 2 ? aws_kms_key.held[0].arn : ""
}
