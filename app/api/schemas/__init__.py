"""Request and response schemas, one module per resource, and the fields they share."""
