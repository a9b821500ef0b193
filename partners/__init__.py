"""Partners: the registry of organizations, their mail domains, contacts and partnerships."""
