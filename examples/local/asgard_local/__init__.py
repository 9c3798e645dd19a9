"""The ``local`` cluster kind: apps and one-time jobs as supervised processes on the host
Asgard runs on, which is the cluster's one agent. Registered only through the
``asgard.backends`` entry point, as any kind written outside Asgard is."""
