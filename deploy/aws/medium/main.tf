# Medium size (article: ~30,000 requests/month, $300-800/month, ap-northeast-1, March 2026
# estimate): grpo-lead serve with the vLLM engine as an ECS service on GPU instances
# (g5.xlarge / g5.2xlarge spot, through an ECS capacity provider that scales the Auto Scaling
# group to zero when no task runs), behind an HTTPS load balancer, with ElastiCache Redis as
# the response cache shared by the tasks.
#
# The article names "ECS Fargate + ElastiCache" for this size; Fargate has no GPUs, so the
# tasks run on EC2 GPU instances managed by ECS (the issue's "containers on ECS with GPU
# instances"). The image is deploy/docker/Dockerfile.gpu with the exported model copied to
# /models/model (see deploy/README.md), pushed to the ECR repository below.

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.6"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { project = var.name, size = "medium" }
  }
}

data "aws_caller_identity" "current" {}

module "vpc" {
  #checkov:skip=CKV_TF_1:Registry module pinned by version constraint, as in the article; pin a commit for stricter supply-chain control.
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name               = "${var.name}-vpc"
  cidr               = "10.0.0.0/16"
  azs                = ["${var.region}a", "${var.region}c"]
  public_subnets     = ["10.0.101.0/24", "10.0.102.0/24"]
  private_subnets    = ["10.0.1.0/24", "10.0.2.0/24"]
  enable_nat_gateway = true
  single_nat_gateway = true # one NAT gateway, not one per AZ: cost over redundancy
}

resource "aws_kms_key" "main" {
  description         = "${var.name}: logs, secrets, cache, images"
  enable_key_rotation = true
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
# Image registry (the article's "ECRイメージ自動削除": keep the last 10 images)
# ---------------------------------------------------------------------------------------------

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

# ---------------------------------------------------------------------------------------------
# Secrets: the API keys clients use, and the Redis URL with its auth token
# ---------------------------------------------------------------------------------------------

resource "random_password" "redis" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "api_keys" {
  #checkov:skip=CKV2_AWS_57:API keys are handed to clients; rotating them is a client-facing change done by hand.
  name_prefix = "${var.name}-api-keys-"
  kms_key_id  = aws_kms_key.main.arn
}

resource "aws_secretsmanager_secret" "cache_url" {
  #checkov:skip=CKV2_AWS_57:The Redis auth token changes with the replication group; Terraform owns it.
  name_prefix = "${var.name}-cache-url-"
  kms_key_id  = aws_kms_key.main.arn
}

resource "aws_secretsmanager_secret_version" "cache_url" {
  secret_id     = aws_secretsmanager_secret.cache_url.id
  secret_string = "rediss://:${random_password.redis.result}@${aws_elasticache_replication_group.cache.primary_endpoint_address}:6379/0"
}

# ---------------------------------------------------------------------------------------------
# Network: HTTPS in to the load balancer, the load balancer to the tasks, the tasks to Redis
# ---------------------------------------------------------------------------------------------

resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  description = "HTTPS from the allowed clients to the load balancer"
  vpc_id      = module.vpc.vpc_id

  ingress {
    description = "HTTPS from allowed clients"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidrs
  }

  egress {
    description = "to the server tasks"
    from_port   = 8000
    to_port     = 8000
    protocol    = "tcp"
    cidr_blocks = [module.vpc.vpc_cidr_block]
  }
}

resource "aws_security_group" "instances" {
  name_prefix = "${var.name}-gpu-"
  description = "GPU instances running the server tasks"
  vpc_id      = module.vpc.vpc_id

  ingress {
    description     = "server port from the load balancer"
    from_port       = 8000
    to_port         = 8000
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }

  egress {
    description = "HTTPS to ECR, S3, Secrets Manager, CloudWatch"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "Redis inside the VPC"
    from_port   = 6379
    to_port     = 6379
    protocol    = "tcp"
    cidr_blocks = [module.vpc.vpc_cidr_block]
  }
}

resource "aws_security_group" "redis" {
  name_prefix = "${var.name}-redis-"
  description = "ElastiCache Redis, reachable from the GPU instances only"
  vpc_id      = module.vpc.vpc_id

  ingress {
    description     = "Redis from the server tasks"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [aws_security_group.instances.id]
  }
}

# ---------------------------------------------------------------------------------------------
# ElastiCache Redis: the response cache shared by every task (TLS, auth token, KMS)
# ---------------------------------------------------------------------------------------------

resource "aws_elasticache_subnet_group" "cache" {
  name       = "${var.name}-cache"
  subnet_ids = module.vpc.private_subnets
}

resource "aws_elasticache_replication_group" "cache" {
  #checkov:skip=CKV_AWS_134:A response cache needs no backups: a lost entry is regenerated.
  #checkov:skip=CKV2_AWS_50:One cache node (no Multi-AZ failover) halves the cache cost; an outage only costs regenerations, the server keeps answering.
  replication_group_id       = "${var.name}-cache"
  description                = "grpo-lead response cache"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = "cache.t4g.small"
  num_cache_clusters         = 1 # one node: a cache outage only costs regenerations
  automatic_failover_enabled = false
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.cache.name
  security_group_ids         = [aws_security_group.redis.id]
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.main.arn
  transit_encryption_enabled = true
  auth_token                 = random_password.redis.result
  parameter_group_name       = "default.redis7"
  apply_immediately          = true
}

# ---------------------------------------------------------------------------------------------
# ECS: GPU instances (spot) through a capacity provider that scales to zero
# ---------------------------------------------------------------------------------------------

resource "aws_ecs_cluster" "main" {
  name = "${var.name}-cluster"
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

data "aws_ssm_parameter" "ecs_gpu_ami" {
  name = "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
}

resource "aws_iam_role" "instance" {
  name = "${var.name}-ecs-instance"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "instance_ecs" {
  role       = aws_iam_role.instance.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

resource "aws_iam_role_policy_attachment" "instance_ssm" {
  role       = aws_iam_role.instance.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "instance" {
  name = "${var.name}-ecs-instance"
  role = aws_iam_role.instance.name
}

resource "aws_launch_template" "gpu" {
  name_prefix   = "${var.name}-gpu-"
  image_id      = data.aws_ssm_parameter.ecs_gpu_ami.value
  instance_type = "g5.xlarge"
  user_data = base64encode(<<-EOT
    #!/bin/bash
    echo "ECS_CLUSTER=${aws_ecs_cluster.main.name}" >> /etc/ecs/ecs.config
    echo "ECS_ENABLE_GPU_SUPPORT=true" >> /etc/ecs/ecs.config
    echo "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true" >> /etc/ecs/ecs.config
  EOT
  )
  vpc_security_group_ids = [aws_security_group.instances.id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.instance.arn
  }

  metadata_options {
    http_tokens                 = "required"
    http_endpoint               = "enabled"
    http_put_response_hop_limit = 1 # containers cannot reach the instance's credentials; tasks get theirs from ECS
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = 200 # the image with the model, and vLLM's caches
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = aws_kms_key.main.arn
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = true
  }
}

resource "aws_autoscaling_group" "gpu" {
  name_prefix           = "${var.name}-gpu-"
  vpc_zone_identifier   = module.vpc.private_subnets
  min_size              = 0
  max_size              = var.max_instances
  protect_from_scale_in = true # ECS managed termination protection decides what goes

  mixed_instances_policy {
    instances_distribution {
      on_demand_base_capacity                  = 0
      on_demand_percentage_above_base_capacity = var.spot ? 0 : 100
      spot_allocation_strategy                 = "price-capacity-optimized"
    }
    launch_template {
      launch_template_specification {
        launch_template_id = aws_launch_template.gpu.id
        version            = "$Latest"
      }
      override {
        instance_type = "g5.xlarge"
      }
      override {
        instance_type = "g5.2xlarge"
      }
    }
  }

  tag {
    key                 = "AmazonECSManaged"
    value               = "true"
    propagate_at_launch = true
  }

  lifecycle {
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "gpu" {
  name = "${var.name}-gpu"
  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.gpu.arn
    managed_termination_protection = "ENABLED"
    managed_scaling {
      status          = "ENABLED"
      target_capacity = 100 # no idle instance: with no task, the group scales to zero
    }
  }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = [aws_ecs_capacity_provider.gpu.name]
  default_capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.gpu.name
    weight            = 1
  }
}

# ---------------------------------------------------------------------------------------------
# The task: grpo-lead serve --engine vllm, one GPU
# ---------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "serve" {
  name              = "/ecs/${var.name}-serve"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_iam_role" "execution" {
  name = "${var.name}-task-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "execution_secrets" {
  name = "read-secrets"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [aws_secretsmanager_secret.api_keys.arn, aws_secretsmanager_secret.cache_url.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [aws_kms_key.main.arn]
      }
    ]
  })
}

resource "aws_ecs_task_definition" "serve" {
  family                   = "${var.name}-serve"
  requires_compatibilities = ["EC2"]
  network_mode             = "bridge"
  execution_role_arn       = aws_iam_role.execution.arn
  cpu                      = 3072
  memory                   = 14336

  container_definitions = jsonencode([{
    name                   = "server"
    image                  = "${aws_ecr_repository.serve.repository_url}:${var.image_tag}"
    essential              = true
    readonlyRootFilesystem = true
    command = [
      "--model=/models/model",
      "--served-model-name=${var.name}",
      "--host=0.0.0.0",
      "--port=8000",
      "--max-model-len=16384",
      "--max-tokens-cap=${var.max_tokens_cap}",
      "--max-in-flight=64",
      "--request-timeout=600",
      "--cache-ttl=${var.cache_ttl_seconds}",
    ]
    portMappings         = [{ containerPort = 8000, hostPort = 8000, protocol = "tcp" }]
    resourceRequirements = [{ type = "GPU", value = "1" }]
    secrets = [
      { name = "GRPO_LEAD_API_KEYS", valueFrom = aws_secretsmanager_secret.api_keys.arn },
      { name = "GRPO_LEAD_CACHE_URL", valueFrom = aws_secretsmanager_secret.cache_url.arn },
    ]
    environment = [{ name = "HF_HUB_OFFLINE", value = "1" }]
    linuxParameters = {
      sharedMemorySize = 2048
      tmpfs = [
        { containerPath = "/tmp", size = 2048 },
        { containerPath = "/cache", size = 8192 },
      ]
    }
    healthCheck = {
      command     = ["CMD", "python3", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 900
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.serve.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "serve"
      }
    }
  }])
}

# ---------------------------------------------------------------------------------------------
# Load balancer (HTTPS only) and the service
# ---------------------------------------------------------------------------------------------

resource "aws_lb" "main" {
  #checkov:skip=CKV_AWS_91:grpo-lead logs one access line per request (status, latency, tokens, cache) to CloudWatch; ALB logs would duplicate it at extra S3 cost.
  #checkov:skip=CKV2_AWS_28:WAF costs $5/month plus per-rule fees; access is limited by allowed_cidrs and API keys. Add aws_wafv2_web_acl_association for a public endpoint.
  name                       = "${var.name}-alb"
  load_balancer_type         = "application"
  internal                   = var.internal_alb
  subnets                    = var.internal_alb ? module.vpc.private_subnets : module.vpc.public_subnets
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = true
  idle_timeout               = 600 # long generations stream for minutes
}

resource "aws_lb_target_group" "serve" {
  name_prefix = "lead-"
  port        = 8000
  protocol    = "HTTP"
  vpc_id      = module.vpc.vpc_id
  target_type = "instance"

  health_check {
    path                = "/health"
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.serve.arn
  }
}

resource "aws_ecs_service" "serve" {
  name                               = "${var.name}-serve"
  cluster                            = aws_ecs_cluster.main.id
  task_definition                    = aws_ecs_task_definition.serve.arn
  desired_count                      = var.min_tasks
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 900

  capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.gpu.name
    weight            = 1
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.serve.arn
    container_name   = "server"
    container_port   = 8000
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.https]
}

# Tasks follow the request rate; the capacity provider follows the tasks.
resource "aws_appautoscaling_target" "serve" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.serve.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_tasks
  max_capacity       = var.max_instances
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${var.name}-requests-per-task"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.serve.service_namespace
  resource_id        = aws_appautoscaling_target.serve.resource_id
  scalable_dimension = aws_appautoscaling_target.serve.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_task_per_minute
    scale_in_cooldown  = 600
    scale_out_cooldown = 120
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.main.arn_suffix}/${aws_lb_target_group.serve.arn_suffix}"
    }
  }
}

# Cost control: no task (so no GPU instance) at night (the article's "開発環境: 夜間停止").
resource "aws_appautoscaling_scheduled_action" "night_stop" {
  count              = var.night_stop ? 1 : 0
  name               = "${var.name}-night-stop"
  service_namespace  = aws_appautoscaling_target.serve.service_namespace
  resource_id        = aws_appautoscaling_target.serve.resource_id
  scalable_dimension = aws_appautoscaling_target.serve.scalable_dimension
  schedule           = "cron(0 22 * * ? *)"
  timezone           = "Asia/Tokyo"
  scalable_target_action {
    min_capacity = 0
    max_capacity = 0
  }
}

resource "aws_appautoscaling_scheduled_action" "morning_start" {
  count              = var.night_stop ? 1 : 0
  name               = "${var.name}-morning-start"
  service_namespace  = aws_appautoscaling_target.serve.service_namespace
  resource_id        = aws_appautoscaling_target.serve.resource_id
  scalable_dimension = aws_appautoscaling_target.serve.scalable_dimension
  schedule           = "cron(0 8 ? * MON-FRI *)"
  timezone           = "Asia/Tokyo"
  scalable_target_action {
    min_capacity = var.min_tasks
    max_capacity = var.max_instances
  }
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

resource "aws_cloudwatch_metric_alarm" "errors_5xx" {
  alarm_name          = "${var.name}-5xx"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { LoadBalancer = aws_lb.main.arn_suffix }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 10
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
