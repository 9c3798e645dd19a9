"""Workflows: stages of one-time jobs run in order by Asgard, each stage's ``/output``
handed to the next as its ``/input``. ``store`` keeps them, ``runner`` moves them on."""
