"""Training tag models: the service that trains, activates and rolls back versions, and the guidelines."""
