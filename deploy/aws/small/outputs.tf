output "function_url" {
  description = "IAM-authenticated endpoint: POST an OpenAI chat-completion body (SigV4-signed)"
  value       = aws_lambda_function_url.handler.function_url
}

output "model_bucket" {
  description = "Upload the `grpo-lead export` folder here before the import job"
  value       = aws_s3_bucket.models.bucket
}

output "model_import_role_arn" {
  description = "Role for `aws bedrock create-model-import-job --role-arn`"
  value       = aws_iam_role.model_import.arn
}

output "cache_table" {
  value = aws_dynamodb_table.cache.name
}
