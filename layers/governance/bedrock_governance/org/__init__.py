"""Organization scope: one stack in the management (or delegated administrator) account governs
every member account x governed region. Targets are listed once, a worker per (account, region)
reads through the member role, and one aggregation decides and alerts for the organization."""
