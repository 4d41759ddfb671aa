variable "name" {
  description = "Name prefix of every resource"
  type        = string
  default     = "grpo-lead"
}

variable "region" {
  description = "AWS region (the article's estimates are for ap-northeast-1)"
  type        = string
  default     = "ap-northeast-1"
}

variable "kubernetes_version" {
  description = "EKS version (the article: 1.31; deploy/k8s is validated against its schemas)"
  type        = string
  default     = "1.31"
}

variable "karpenter_version" {
  description = "Karpenter Helm chart (v1 API: NodePool / EC2NodeClass)"
  type        = string
  default     = "1.14.1"
}

variable "nvidia_device_plugin_version" {
  description = "NVIDIA device plugin Helm chart"
  type        = string
  default     = "0.17.0"
}

variable "admin_cidrs" {
  description = "Networks allowed to reach the Kubernetes API endpoint"
  type        = list(string)
}

variable "monthly_budget_usd" {
  description = "AWS Budget for this stack (the article's large estimate, upper end)"
  type        = number
  default     = 5000
}

variable "alert_emails" {
  description = "Who receives budget and anomaly notifications"
  type        = list(string)
}
