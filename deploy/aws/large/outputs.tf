output "cluster_name" {
  value = module.eks.cluster_name
}

output "model_bucket" {
  description = "Upload the `grpo-lead export` folder here; set deploy/k8s/configmap.yaml to it"
  value       = aws_s3_bucket.models.bucket
}

output "ecr_repository" {
  description = "Push the Dockerfile.gpu image here; set it in deploy/k8s/kustomization.yaml"
  value       = aws_ecr_repository.serve.repository_url
}
