"""What happens to a job and its source: intake, the scheduler, one attempt, its outcome."""
