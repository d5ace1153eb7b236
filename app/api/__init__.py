"""The API: the route table, the OpenAPI document built from it, one handler module per resource."""
