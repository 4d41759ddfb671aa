output "endpoint" {
  description = "The OpenAI-compatible endpoint (HTTPS; point a DNS name with the certificate's host at it)"
  value       = "https://${aws_lb.main.dns_name}/v1"
}

output "ecr_repository" {
  description = "Push the server image (with the exported model) here"
  value       = aws_ecr_repository.serve.repository_url
}

output "api_keys_secret" {
  description = "Put the client API keys here, comma-separated"
  value       = aws_secretsmanager_secret.api_keys.arn
}
