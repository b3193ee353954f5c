"""Everything that reads or changes live AWS and Kubernetes: the one AWS session factory
(`session`), S3/KMS/IAM reads (`reader`), Kubernetes reads (`kube`), `verify`, object operations."""
