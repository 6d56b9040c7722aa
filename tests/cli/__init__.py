"""Command-line and documentation tests: the CLI, the README and docs, the fixture factory, against real tools and committed files."""
