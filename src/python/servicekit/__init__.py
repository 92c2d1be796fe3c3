"""Runtime library shared by the services and their specgen-generated code."""
