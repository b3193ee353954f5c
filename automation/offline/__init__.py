"""Everything that runs without a cloud: the mock engine, `check`, the Terraform plan and Checkov,
`manifests`, `permissions`."""
