"""The team queue: the job store on PostgreSQL, shared by several machines."""
