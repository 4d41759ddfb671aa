variable "name" {
  description = "Name prefix of every resource, and the model name clients pass"
  type        = string
  default     = "grpo-lead"
}

variable "region" {
  description = "AWS region (the article's estimates are for ap-northeast-1)"
  type        = string
  default     = "ap-northeast-1"
}

variable "model_arn" {
  description = "ARN of the model imported with Bedrock Custom Model Import (see deploy/README.md)"
  type        = string
}

variable "cache_ttl_seconds" {
  description = "How long a cached response is served (DynamoDB TTL on expire_at)"
  type        = number
  default     = 86400
}

variable "max_tokens_cap" {
  description = "Server-wide cap on max_tokens (cost control)"
  type        = number
  default     = 4096
}

variable "max_concurrency" {
  description = "Reserved concurrency of the handler: a hard bound on parallel Bedrock calls"
  type        = number
  default     = 10
}

variable "monthly_budget_usd" {
  description = "AWS Budget for this stack (the article's small estimate, upper end)"
  type        = number
  default     = 150
}

variable "alert_emails" {
  description = "Who receives budget, anomaly and alarm notifications"
  type        = list(string)
}
