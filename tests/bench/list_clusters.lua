-- wrk script: ECS ListClusters over awsJson1_1 with keep-alive.
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "AmazonEC2ContainerServiceV20141113.ListClusters"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/20261123/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0"
