"""Start-up and composition: configuration, logging, the bootstrap, the web app, serving."""
