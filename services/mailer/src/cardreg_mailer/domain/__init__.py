"""Pure rules of the mailer: reading requests, retry schedule, message headers. No I/O."""
