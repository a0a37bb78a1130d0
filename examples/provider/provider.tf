terraform {
  required_providers {
    clouddb = {
      source = "clouddb/clouddb"
    }
  }
}

# Every argument is optional here and falls back to its environment variable:
# endpoint <- CLOUDDB_ENDPOINT, token <- CLOUDDB_TOKEN, project <- CLOUDDB_PROJECT.
provider "clouddb" {
  endpoint = "http://127.0.0.1:8080"
  project  = "my-project"
  # token         = "..."  # prefer CLOUDDB_TOKEN so the secret stays out of the configuration
  request_timeout = "30s"
  max_retries     = 8
  poll_interval   = "2s" # operation polling when the API sends no Retry-After
  rate_limit      = 1000 # requests/s shared by everything this provider block does; 0 = unpaced
  rate_burst      = 1000 # back-to-back requests after a quiet period
  batch_reads     = true # refresh from paged listings; false: one GET per object
}
