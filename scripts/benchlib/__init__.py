"""The pieces of scripts/bench: dataset, service, load (wrk), the pgbench limit, and reports."""
