"""HTTP plumbing every route shares: the request pipeline, middlewares, problems, JSON in and out."""
