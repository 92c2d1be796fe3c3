"""Business logic: implementations of the generated domain controller Protocols."""
