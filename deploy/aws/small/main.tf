# Small size (article: ~3,000 requests/month, $50-150/month, ap-northeast-1, March 2026
# estimate): the exported model imported into Amazon Bedrock (Custom Model Import), a Lambda
# function (grpo_lead.serve.lambda_handler) behind an IAM-authenticated Function URL, and a
# DynamoDB prompt-hash cache with a TTL. Pay per request: nothing runs while idle.
#
# The model import itself is one AWS CLI call (see deploy/README.md): Terraform provides the
# encrypted bucket for the model files and the role the import job uses; the imported model's
# ARN comes back in as var.model_arn.

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { project = var.name, size = "small" }
  }
}

data "aws_caller_identity" "current" {}

# One customer-managed key for the bucket, the table, the logs and the Lambda environment.
resource "aws_kms_key" "main" {
  description             = "${var.name}: model files, cache, logs"
  enable_key_rotation     = true
  deletion_window_in_days = 14
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdmin"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
      }
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# Model files for Custom Model Import (the output of `grpo-lead export`)
# ---------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "models" {
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost; the model can be re-exported from the checkpoint.
  #checkov:skip=CKV2_AWS_62:No consumer for bucket event notifications; uploads are manual, once per model.
  #checkov:skip=CKV_AWS_18:Access logging needs a second bucket; CloudTrail already records the import job's reads.
  bucket_prefix = "${var.name}-models-"
}

resource "aws_s3_bucket_versioning" "models" {
  bucket = aws_s3_bucket.models.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "models" {
  bucket = aws_s3_bucket.models.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "models" {
  bucket                  = aws_s3_bucket.models.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Cost control: old model versions expire (the article's "S3ライフサイクル: 自動削除").
resource "aws_s3_bucket_lifecycle_configuration" "models" {
  bucket = aws_s3_bucket.models.id
  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_iam_role" "model_import" {
  name = "${var.name}-bedrock-model-import"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "bedrock.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "model_import" {
  name = "read-model-files"
  role = aws_iam_role.model_import.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:ListBucket"]
        Resource = [aws_s3_bucket.models.arn, "${aws_s3_bucket.models.arn}/*"]
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [aws_kms_key.main.arn]
      }
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# The prompt-hash cache (the article's table: hash key prompt_hash, TTL on expire_at)
# ---------------------------------------------------------------------------------------------

resource "aws_dynamodb_table" "cache" {
  name         = "${var.name}-cache"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "prompt_hash"

  attribute {
    name = "prompt_hash"
    type = "S"
  }

  ttl {
    attribute_name = "expire_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

# ---------------------------------------------------------------------------------------------
# The Lambda handler: grpo_lead/serve/lambda_handler.py and the stdlib-only modules it imports
# ---------------------------------------------------------------------------------------------

data "archive_file" "lambda" {
  type        = "zip"
  output_path = "${path.module}/build/lambda.zip"

  source {
    content  = file("${path.module}/../../../src/grpo_lead/__init__.py")
    filename = "grpo_lead/__init__.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/answers/__init__.py")
    filename = "grpo_lead/answers/__init__.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/answers/_worker.py")
    filename = "grpo_lead/answers/_worker.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/answers/check.py")
    filename = "grpo_lead/answers/check.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/answers/equivalence.py")
    filename = "grpo_lead/answers/equivalence.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/answers/extraction.py")
    filename = "grpo_lead/answers/extraction.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/answers/letters.py")
    filename = "grpo_lead/answers/letters.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/answers/numeric.py")
    filename = "grpo_lead/answers/numeric.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/answers/pool.py")
    filename = "grpo_lead/answers/pool.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/answers/verdict.py")
    filename = "grpo_lead/answers/verdict.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/protocol.py")
    filename = "grpo_lead/protocol.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/reasoning.py")
    filename = "grpo_lead/reasoning.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/serve/__init__.py")
    filename = "grpo_lead/serve/__init__.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/serve/cache.py")
    filename = "grpo_lead/serve/cache.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/serve/reasoning.py")
    filename = "grpo_lead/serve/reasoning.py"
  }
  source {
    content  = file("${path.module}/../../../src/grpo_lead/serve/lambda_handler.py")
    filename = "grpo_lead/serve/lambda_handler.py"
  }
}

resource "aws_iam_role" "lambda" {
  name = "${var.name}-lambda"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "lambda" {
  name = "invoke-model-and-cache"
  role = aws_iam_role.lambda.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["bedrock:InvokeModel"]
        Resource = [var.model_arn]
      },
      {
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem"]
        Resource = [aws_dynamodb_table.cache.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [aws_kms_key.main.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
      },
      {
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = ["*"] # X-Ray has no resource-level permissions
      }
    ]
  })
}

resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${var.name}-handler"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_lambda_function" "handler" {
  #checkov:skip=CKV_AWS_117:No private resource to reach; a VPC would need interface endpoints (about $15/month for two AZs) on a $50-150/month budget.
  #checkov:skip=CKV_AWS_116:Invoked synchronously through the Function URL; a dead-letter queue only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the zip is built by Terraform from the repository.
  function_name                  = "${var.name}-handler"
  role                           = aws_iam_role.lambda.arn
  handler                        = "grpo_lead.serve.lambda_handler.handler"
  runtime                        = "python3.12"
  filename                       = data.archive_file.lambda.output_path
  source_code_hash               = data.archive_file.lambda.output_base64sha256
  timeout                        = 60
  memory_size                    = 256 # the handler only waits on Bedrock ("Lambda メモリ最適化")
  reserved_concurrent_executions = var.max_concurrency
  kms_key_arn                    = aws_kms_key.main.arn

  environment {
    variables = {
      MODEL_ARN         = var.model_arn
      CACHE_TABLE       = aws_dynamodb_table.cache.name
      CACHE_TTL_SECONDS = tostring(var.cache_ttl_seconds)
      MAX_TOKENS_CAP    = tostring(var.max_tokens_cap)
      SERVED_MODEL_NAME = var.name
      API_FORMAT        = "openai"
    }
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.lambda]
}

resource "aws_lambda_function_url" "handler" {
  function_name      = aws_lambda_function.handler.function_name
  authorization_type = "AWS_IAM" # callers sign requests (SigV4); no anonymous access
}

# ---------------------------------------------------------------------------------------------
# Alarms and budget
# ---------------------------------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.main.id
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each  = toset(var.alert_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-handler-errors"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.handler.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.name}-handler-throttles"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.handler.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

module "cost_guard" {
  source             = "../modules/cost-guard"
  name               = var.name
  monthly_budget_usd = var.monthly_budget_usd
  alert_emails       = var.alert_emails
}
