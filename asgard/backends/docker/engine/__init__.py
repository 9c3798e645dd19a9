"""A Docker Engine alone: the host is the one agent, apps are labelled containers Asgard
rolls itself (``asgard.backends.rollout``), and a job is one container. Each module
implements one part of the contract for this mode, as ``swarm`` does for a Swarm."""
