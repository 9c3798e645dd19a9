"""Workflow volumes on the host: one folder per workflow, under the state folder, whose
sub-folders a stage's job sees as ``/input`` and ``/output`` (``WorkspaceMount``).

The folders are plain directories on the state folder's filesystem, so a volume's
``size``, ``storage_class`` and ``access_mode`` (Kubernetes' words) mean nothing here
and are ignored. Removing a workflow's folder removes every stage's files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from asgard.backends.contract import WorkspaceMount
from asgard.errors import NotFound
from asgard_local.identities import Identity, own_folder
from asgard_local.store import Store, pass_through, safe_name

__all__ = ["Workspaces"]


class Workspaces:
    def __init__(self, store: Store, cluster: str) -> None:
        self.store = store
        self.cluster = cluster

    def create(self, namespace: str, name: str) -> None:
        pass_through(self.store.workspace_dir(namespace, name))

    def delete(self, namespace: str, name: str) -> None:
        shutil.rmtree(self.store.workspace_dir(namespace, name), ignore_errors=True)

    def folders(
        self, namespace: str, mount: WorkspaceMount, identity: Identity | None, empty: Path
    ) -> tuple[Path, Path]:
        """A stage's ``/input`` and ``/output``, made where missing, its identity's (its
        account's: the stages of a workflow share them); ``empty`` stands for the input of
        the first stage, which has none."""
        workspace = self.store.workspace_dir(namespace, mount.workspace)
        if not workspace.is_dir():
            raise NotFound(
                f"the folder of workflow '{mount.workspace}' is gone", cluster=self.cluster
            )
        given = empty
        if mount.input_dir is not None:
            given = own_folder(workspace / safe_name(mount.input_dir, "input_dir"), identity)
        made = own_folder(workspace / safe_name(mount.output_dir, "output_dir"), identity)
        return given, made
