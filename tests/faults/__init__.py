"""The fault suite: real components taken away and given back while Asgard serves.

A Docker Engine stopped and started, a PostgreSQL stopped and started, a Kubernetes watch
that expires and an API server that restarts, a Marathon leader change and a Mesos master
failover, and Asgard itself killed with SIGKILL in the middle of its work. Each test
starts the component it breaks for itself, so the rest of the session's shared servers
are never touched.
"""
