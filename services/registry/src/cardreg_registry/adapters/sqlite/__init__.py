"""The registry's storage on one sqlite file: a unit of work with a repository per aggregate."""
