"""A Swarm manager: nodes are agents, services are apps (the Swarm rolls them itself),
Swarm tasks are tasks, and a job is a replicated-job service. Each module implements one
part of the contract for this mode, as ``engine`` does for a single engine."""
