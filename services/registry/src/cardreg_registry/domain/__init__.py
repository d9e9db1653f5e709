"""Pure rules of the registry: accounts, passwords, contact details, masking, lockout. No I/O."""
