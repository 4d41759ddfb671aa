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

variable "image_tag" {
  description = "Tag of the server image (Dockerfile.gpu + the exported model) in the ECR repository"
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener"
  type        = string
}

variable "allowed_cidrs" {
  description = "Client networks allowed to reach the load balancer"
  type        = list(string)
}

variable "internal_alb" {
  description = "Keep the load balancer inside the VPC (clients reach it over VPN or peering)"
  type        = bool
  default     = true
}

variable "spot" {
  description = "Run the GPU instances on spot (up to 90% cheaper; a task may be interrupted)"
  type        = bool
  default     = true
}

variable "min_tasks" {
  description = "Tasks kept running (0: scale to zero; the first request then waits for a GPU instance)"
  type        = number
  default     = 1
}

variable "max_instances" {
  description = "Most GPU instances (and tasks) at once: a hard ceiling on spend"
  type        = number
  default     = 2
}

variable "requests_per_task_per_minute" {
  description = "Target of the request-count scaling policy"
  type        = number
  default     = 60
}

variable "night_stop" {
  description = "Scale to zero from 22:00 to 08:00 JST on weekdays and all weekend (development stacks)"
  type        = bool
  default     = false
}

variable "max_tokens_cap" {
  description = "Server-wide cap on max_tokens (cost control)"
  type        = number
  default     = 8192
}

variable "cache_ttl_seconds" {
  description = "How long a cached response is served"
  type        = number
  default     = 86400
}

variable "monthly_budget_usd" {
  description = "AWS Budget for this stack (the article's medium estimate, upper end)"
  type        = number
  default     = 800
}

variable "alert_emails" {
  description = "Who receives budget, anomaly and alarm notifications"
  type        = list(string)
}
