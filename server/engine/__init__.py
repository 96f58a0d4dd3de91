"""The query engine: retrieve, check support, answer, cite."""
