# Large size (article: 300,000+ requests/month, $2,000-5,000/month, ap-northeast-1, March 2026
# estimate): EKS with Karpenter provisioning spot GPU nodes (g5.xlarge / g5.2xlarge) for the
# vLLM-engine pods of deploy/k8s, scaling the GPU nodes to zero when no pod needs them.
#
# Terraform builds the cluster, a small on-demand node group for system pods (Karpenter's
# controller must not run on the nodes it manages), Karpenter itself (IAM, interruption queue,
# Helm chart), the model bucket and image registry, and the pod identity that lets the server's
# init container read the model. The workloads (Deployment, Service, HPA, NodePool...) are
# deploy/k8s, applied with `kubectl apply -k deploy/k8s`: one source of truth for them.

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60"
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 2.12, < 3.0"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { project = var.name, size = "large" }
  }
}

data "aws_caller_identity" "current" {}

data "aws_eks_cluster_auth" "main" {
  name = module.eks.cluster_name
}

provider "helm" {
  kubernetes {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    token                  = data.aws_eks_cluster_auth.main.token
  }
}

locals {
  cluster_name = "${var.name}-cluster"
}

module "vpc" {
  #checkov:skip=CKV_TF_1:Registry module pinned by version constraint, as in the article; pin a commit for stricter supply-chain control.
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name               = "${var.name}-vpc"
  cidr               = "10.0.0.0/16"
  azs                = ["${var.region}a", "${var.region}c", "${var.region}d"]
  private_subnets    = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]
  public_subnets     = ["10.0.101.0/24", "10.0.102.0/24", "10.0.103.0/24"]
  enable_nat_gateway = true
  single_nat_gateway = true

  private_subnet_tags = {
    "karpenter.sh/discovery"          = local.cluster_name # deploy/k8s/karpenter.yaml selects these
    "kubernetes.io/role/internal-elb" = "1"
  }
  public_subnet_tags = {
    "kubernetes.io/role/elb" = "1"
  }
}

module "eks" {
  #checkov:skip=CKV_TF_1:Registry module pinned by version constraint, as in the article; pin a commit for stricter supply-chain control.
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.0"

  cluster_name    = local.cluster_name
  cluster_version = var.kubernetes_version
  vpc_id          = module.vpc.vpc_id
  subnet_ids      = module.vpc.private_subnets

  # The article opens the API endpoint to the internet; here only to the admins' networks.
  cluster_endpoint_public_access       = true
  cluster_endpoint_public_access_cidrs = var.admin_cidrs

  enable_cluster_creator_admin_permissions = true
  cluster_enabled_log_types                = ["api", "audit", "authenticator"]

  cluster_addons = {
    coredns                = {}
    kube-proxy             = {}
    vpc-cni                = {}
    eks-pod-identity-agent = {}
  }

  eks_managed_node_groups = {
    system = {
      instance_types = ["t3.large"]
      min_size       = 2
      max_size       = 3
      desired_size   = 2
      labels         = { "grpo-lead/role" = "system" }
    }
  }

  node_security_group_tags = {
    "karpenter.sh/discovery" = local.cluster_name
  }
}

# Karpenter: node IAM role (KarpenterNodeRole-<cluster>, named in deploy/k8s/karpenter.yaml),
# controller permissions through EKS Pod Identity, and the SQS queue for spot interruption
# notices (a node is drained in the 2 minutes' warning).
module "karpenter" {
  #checkov:skip=CKV_TF_1:Registry module pinned by version constraint, as in the article; pin a commit for stricter supply-chain control.
  source  = "terraform-aws-modules/eks/aws//modules/karpenter"
  version = "~> 20.24" # enable_v1_permissions: Karpenter v1

  cluster_name                    = module.eks.cluster_name
  enable_v1_permissions           = true
  enable_pod_identity             = true
  create_pod_identity_association = true
  node_iam_role_use_name_prefix   = false
  node_iam_role_name              = "KarpenterNodeRole-${local.cluster_name}"

  node_iam_role_additional_policies = {
    AmazonSSMManagedInstanceCore = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
  }
}

resource "helm_release" "karpenter" {
  namespace        = "kube-system"
  name             = "karpenter"
  repository       = "oci://public.ecr.aws/karpenter"
  chart            = "karpenter"
  version          = var.karpenter_version
  create_namespace = false
  wait             = true

  values = [yamlencode({
    nodeSelector = { "grpo-lead/role" = "system" }
    settings = {
      clusterName       = module.eks.cluster_name
      clusterEndpoint   = module.eks.cluster_endpoint
      interruptionQueue = module.karpenter.queue_name
    }
  })]
}

# The NVIDIA device plugin advertises nvidia.com/gpu on the GPU nodes.
resource "helm_release" "nvidia_device_plugin" {
  namespace        = "kube-system"
  name             = "nvidia-device-plugin"
  repository       = "https://nvidia.github.io/k8s-device-plugin"
  chart            = "nvidia-device-plugin"
  version          = var.nvidia_device_plugin_version
  create_namespace = false

  values = [yamlencode({
    tolerations = [{ key = "nvidia.com/gpu", operator = "Exists", effect = "NoSchedule" }]
  })]
}

# ---------------------------------------------------------------------------------------------
# Model bucket, image registry, and the server's read access to the model
# ---------------------------------------------------------------------------------------------

resource "aws_kms_key" "main" {
  description         = "${var.name}: model files and images"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdmin"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_s3_bucket" "models" {
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost; the model can be re-exported from the checkpoint.
  #checkov:skip=CKV2_AWS_62:No consumer for bucket event notifications; uploads are manual, once per model.
  #checkov:skip=CKV_AWS_18:Access logging needs a second bucket; CloudTrail records the reads.
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

resource "aws_ecr_repository" "serve" {
  name                 = "${var.name}-serve"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.main.arn
  }
}

resource "aws_ecr_lifecycle_policy" "serve" {
  repository = aws_ecr_repository.serve.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the last 10 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 10 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_iam_role" "server" {
  name = "${var.name}-server"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "pods.eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })
}

resource "aws_iam_role_policy" "server" {
  name = "read-model"
  role = aws_iam_role.server.id
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

# deploy/k8s/serviceaccount.yaml: namespace grpo-lead, service account grpo-lead.
resource "aws_eks_pod_identity_association" "server" {
  cluster_name    = module.eks.cluster_name
  namespace       = "grpo-lead"
  service_account = "grpo-lead"
  role_arn        = aws_iam_role.server.arn
}

module "cost_guard" {
  source             = "../modules/cost-guard"
  name               = var.name
  monthly_budget_usd = var.monthly_budget_usd
  alert_emails       = var.alert_emails
}
