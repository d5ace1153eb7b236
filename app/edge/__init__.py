"""HTTP plumbing every route shares: middlewares, the endpoint wrapper, problems, JSON in and out."""
