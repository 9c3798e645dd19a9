"""The configuration of a ``kubernetes`` cluster: how to reach its API server, and what
Asgard's jobs there need (a helper image, volumes for their files)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from pydantic import Field, SecretStr, model_validator

from asgard.backends.registry import ClusterConfig


@dataclass(frozen=True)
class Lockdown:
    """What the cluster entry's ``app_defaults = "baseline"`` gives apps' pods."""

    service_account_token: bool = False
    """Mount the namespace's service account token (``app_service_account_token``): for
    apps that call the Kubernetes API, under the RBAC their namespace gives them."""


BASELINE: Final = Lockdown()


KIND: Final = "kubernetes"


class KubernetesClusterConfig(ClusterConfig):
    """One of: ``url``, ``kubeconfig`` (with ``context``), or ``in_cluster = true`` (the
    pod's service account). A ``url`` may come with a bearer token (``token`` or
    ``token_file``), a client certificate and key, or no credentials at all, as
    ``kubectl proxy`` serves the API on ``http://127.0.0.1:8001``."""

    kind: Literal["kubernetes"] = "kubernetes"
    url: str | None = Field(None, description="API server URL, e.g. https://10.0.0.1:6443")
    token: SecretStr | None = Field(None, description="Bearer token")
    token_file: Path | None = Field(
        None, description="File holding the bearer token; re-read on 401"
    )
    kubeconfig: Path | None = None
    context: str | None = Field(None, description="kubeconfig context; the current one by default")
    in_cluster: bool = Field(False, description="Use the service account of the pod Asgard runs in")
    verify_ssl: bool = True
    insecure_skip_tls_verify: bool = Field(
        False, description="Do not check the API server's certificate (as in a kubeconfig)"
    )
    ca_file: Path | None = Field(None, description="CA bundle for the API server's certificate")
    client_cert: Path | None = Field(None, description="Client certificate (PEM), with client_key")
    client_key: Path | None = Field(None, description="The client certificate's key (PEM)")
    page_size: int = Field(500, ge=1, le=10_000, description="Items per page when listing")
    helper_image: str = Field(
        "busybox:1.36",
        description="Image with sh, wget, tar and unzip: fetches a job's input, sends its output",
    )
    output_size: str = Field("1Gi", description="Size of the volume a job writes /output to")
    storage_class: str | None = Field(
        None,
        description="Storage class of job output and workflow volumes (unless a workflow asks)",
    )
    job_retention_s: float = Field(7 * 24 * 3600.0, gt=0, description="ttlSecondsAfterFinished")
    app_defaults: Literal["baseline", "none"] = Field(
        "baseline",
        description="baseline: apps' pods meet Pod Security 'baseline' and more (seccomp "
        "RuntimeDefault, no privilege escalation, capabilities dropped but a small set, no "
        "service account token); none: as their spec says. Jobs always meet 'restricted'",
    )
    app_service_account_token: bool = Field(
        False,
        description="With app_defaults = baseline: mount the namespace's service account "
        "token in apps' pods, for apps that call the Kubernetes API",
    )

    @model_validator(mode="after")
    def _one_way_in(self) -> KubernetesClusterConfig:
        ways = [self.url is not None, self.kubeconfig is not None, self.in_cluster]
        if sum(ways) != 1:
            raise ValueError("give exactly one of url, kubeconfig, in_cluster = true")
        if self.token is not None and self.token_file is not None:
            raise ValueError("give token or token_file, not both")
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together")
        return self

    def lockdown(self) -> Lockdown | None:
        """What apps' pods get (``app_defaults``); None: nothing, as their spec says."""
        if self.app_defaults == "none":
            return None
        return Lockdown(service_account_token=self.app_service_account_token)

    @property
    def checks_tls(self) -> bool:
        return self.verify_ssl and not self.insecure_skip_tls_verify

    @property
    def anonymous(self) -> bool:
        """A cluster by url with no credentials: a ``kubectl proxy``, or an open API."""
        return self.url is not None and not (self.token or self.token_file or self.client_cert)
