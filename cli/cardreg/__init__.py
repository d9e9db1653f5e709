"""The `cardreg` command: runs the whole system on one machine and dispatches subcommands."""
