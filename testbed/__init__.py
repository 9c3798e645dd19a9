"""What the tests and the benchmarks both stand on: Asgard run as a user runs it
(``asgard_process``), the Kubernetes emulator (``kube``) and synthetic clusters filled
into it (``synthetic``), a cluster that never answers (``silent``), and many clients at
once against a running Asgard (``load``).

``tests`` and ``bench`` never import each other; both import this. It is not Asgard:
the wheel leaves it out (only ``asgard*`` packages are packaged), and it may use what
the tests install (kmock).
"""
