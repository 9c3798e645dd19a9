"""Asgard's own scheduler, for clusters whose kind has none (Docker).

``cron`` reads schedules, ``store`` keeps them in the database, ``backend`` is the
``ScheduledJobsBackend`` such clusters get, and ``scheduler`` starts their runs.
"""
