"""The live pool dashboard in a real headless browser."""
