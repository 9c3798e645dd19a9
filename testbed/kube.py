"""kmock's Kubernetes emulator, taught the API conventions Asgard relies on.

kmock 0.8 stores objects and serves create, get, list, merge-patch, delete and
watch, but it ignores selectors, does not paginate, stamps no metadata, and
serves subresources as the object itself. ``Emulator`` adds, and only adds:

* metadata: ``uid``, ``creationTimestamp``, a cluster-wide ``resourceVersion``
  bumped on every write (deletes too), ``generation`` bumped on spec changes;
* lists: ``labelSelector`` (``=``, ``==``, ``!=``, ``in``, ``notin``, ``key``,
  ``!key``), ``fieldSelector`` (``=``, ``!=`` on dotted paths), ``limit`` and
  ``continue`` in a stable order, with tokens that expire (410 ``Expired``)
  after ``continue_ttl_s`` or when ``expire_continue_tokens()`` is called;
* watches: from a ``resourceVersion`` only later events, filtered by the same
  selectors, a ``BOOKMARK`` when asked, and 410 for a version older than
  ``compact()`` left; ``end_watches()`` ends every open watch, as an API server
  does when a watch times out;
* subresources: ``scale`` answers and takes a ``Scale``; ``pods/log`` serves
  what the test wrote with ``write_log`` (``tailLines``, ``follow``, and, as the
  kubelet does, ``timestamps`` prefixing each line with its RFC 3339 time, and
  ``sinceTime`` leaving out the lines before it, of the last ``tailLines``);
* ``requests_log``: every request's method, path and query, to assert on what
  the client sent;
* one object's get and update find it by its key, where kmock scans every object;
* ``SelfSubjectAccessReview``: allowed, but for what ``denied`` names.

``ApiServer`` serves an emulator on a port that outlives a restart: ``stop()``
resets every connection and refuses new ones, ``start()`` serves the same objects
on the same port again, as an API server process that died and came back.

Everything else is kmock's own behaviour. Tests play the controllers.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal import enums, k8s, rendering
from kmock._internal.k8s_dicts import Object, ObjectVersion

Obj = dict[str, Any]


ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
"""Where a client asks what it may do (``kubectl auth can-i``): answered from ``denied``."""

SNAPSHOTS_KEPT = 64
"""Lists being paged through at once; the oldest's continue token then answers 410."""


def _gone(message: str) -> k8s.KubernetesError:
    """410: what Kubernetes answers for an expired continue token."""
    return k8s.KubernetesError(status=410, reason="Expired", message=message)


def parse_label_selector(selector: str) -> list[tuple[str, str, set[str]]]:
    """``a=b,c!=d,e in (f,g),h,!i`` -> [(key, op, values)]."""
    terms: list[tuple[str, str, set[str]]] = []
    part, depth, parts = "", 0, []
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(part)
            part = ""
        else:
            part += char
    parts.append(part)
    for raw in (p.strip() for p in parts):
        if not raw:
            continue
        for op in (" notin ", " in "):
            if op in raw:
                key, values = raw.split(op, 1)
                terms.append(
                    (key.strip(), op.strip(), {v.strip() for v in values.strip("() ").split(",")})
                )
                break
        else:
            if "!=" in raw:
                key, value = raw.split("!=", 1)
                terms.append((key.strip(), "!=", {value.strip()}))
            elif "==" in raw or "=" in raw:
                key, value = raw.replace("==", "=").split("=", 1)
                terms.append((key.strip(), "=", {value.strip()}))
            elif raw.startswith("!"):
                terms.append((raw[1:].strip(), "!", set()))
            else:
                terms.append((raw, "exists", set()))
    return terms


def labels_match(labels: dict[str, str], selector: str) -> bool:
    for key, op, values in parse_label_selector(selector):
        present, value = key in labels, labels.get(key)
        if op == "=" and value not in values:
            return False
        if op == "!=" and value in values:
            return False
        if op == "in" and value not in values:
            return False
        if op == "notin" and value in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
    return True


def _field(obj: Obj, path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def fields_match(obj: Obj, selector: str) -> bool:
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        if "!=" in term:
            path, value = term.split("!=", 1)
            if _field(obj, path.strip()) == value.strip():
                return False
        else:
            path, value = term.replace("==", "=").split("=", 1)
            if _field(obj, path.strip()) != value.strip():
                return False
    return True


def selected(obj: Obj, params: dict[str, str]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels_match(labels, params.get("labelSelector", "")) and fields_match(
        obj, params.get("fieldSelector", "")
    )


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: what the API server does with ``application/merge-patch+json``; a null
    removes the key (kmock keeps it, as a null)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _has_null(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is None or _has_null(v) for v in value.values())
    return False


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


@attrs.define(kw_only=True)
class Emulator(kmock.KubernetesEmulator):
    continue_ttl_s: float = 300.0
    bookmark_every_s: float = 5.0
    requests_log: list[tuple[str, str, dict[str, str]]] = attrs.field(factory=list)
    """Every request served: method, path and query (what tests look at)."""
    headers_log: list[tuple[str, dict[str, str]]] = attrs.field(factory=list)
    """Every request's path and headers."""
    # kmock remembers every request and scans that history on each new one, which makes a
    # request cost as much as all those before it (a kit check of 150 calls took 25 s of
    # CPU on a busy machine). The emulator keeps its own logs above, and kmock only the
    # requests being served, which it still needs to route them. ``forget_requests`` also
    # leaves those logs empty, for long runs (the benchmarks) where they would only grow.
    forget_requests: bool = False
    _in_flight: set[int] = attrs.field(factory=set, init=False)
    _rv: int = attrs.field(default=0, init=False)
    _compacted: int = attrs.field(default=0, init=False)
    _token_epoch: int = attrs.field(default=0, init=False)
    _expire_next: bool = attrs.field(default=False, init=False)
    _logs: dict[tuple[str, str], list[tuple[datetime.datetime, str]]] = attrs.field(
        factory=lambda: defaultdict(list), init=False
    )
    _log_closed: set[tuple[str, str]] = attrs.field(factory=set, init=False)
    _log_changed: asyncio.Event = attrs.field(factory=asyncio.Event, init=False)
    _snapshots: dict[str, tuple[list[Obj], str]] = attrs.field(factory=dict, init=False)
    _watches: set[asyncio.Queue[Obj | None]] = attrs.field(factory=set, init=False)
    _resources_seen: tuple[tuple[int, int], list[kmock.resource]] | None = attrs.field(
        default=None, init=False
    )
    denied: set[tuple[str, str, str]] = attrs.field(factory=set)
    """(group, resource, verb) that access reviews answer not allowed; all else is."""

    # what tests use

    @property
    def resource_version(self) -> int:
        return self._rv

    def next_version(self) -> str:
        self._rv += 1
        return str(self._rv)

    def expire_next_continue(self) -> None:
        """The next request with a continue token answers 410, as if it were too old."""
        self._expire_next = True

    def expire_continue_tokens(self) -> None:
        """Every continue token given so far answers 410 from now on."""
        self._token_epoch += 1

    def compact(self) -> None:
        """Watching from any version given so far answers 410 from now on."""
        self._compacted = self._rv

    def end_watches(self) -> None:
        """Every open watch ends now, cleanly, as when its ``timeoutSeconds`` is up: the
        watcher must resume from the last version it saw."""
        for queue in self._watches:
            queue.put_nowait(None)

    def write_log(
        self,
        namespace: str,
        pod: str,
        *lines: str,
        closed: bool = False,
        at: datetime.datetime | None = None,
    ) -> None:
        """The pod's container writes ``lines``, now, or at ``at`` (a microsecond apart)."""
        start = at or datetime.datetime.now(datetime.UTC)
        self._logs[(namespace, pod)].extend(
            (start + datetime.timedelta(microseconds=n), line) for n, line in enumerate(lines)
        )
        if closed:
            self._log_closed.add((namespace, pod))
        self._log_changed.set()

    def stamp(self, obj: Obj) -> Obj:
        """Metadata a real API server would add on creation (for objects put in directly)."""
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault(
            "creationTimestamp", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        meta.setdefault("generation", 1)
        meta["resourceVersion"] = self.next_version()
        return obj

    # the extensions

    def _get_resources(self) -> list[kmock.resource]:
        """kmock unions the declared resources with those of every stored object on every
        request; at 150,000 objects that costs more than the request. Objects are never
        removed from the store (deletion is a marker), so its size says when to look again."""
        size = (len(self.objects), len(self.resources))
        if self._resources_seen is None or self._resources_seen[0] != size:
            self._resources_seen = (size, super()._get_resources())
        return self._resources_seen[1]

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        self._in_flight.add(id(request))
        try:
            return await self._serve(request)
        finally:
            self._in_flight.discard(id(request))
            self._requests[:] = [r for r in self._requests if id(r) in self._in_flight]
            for payload in self._payloads:
                payload._requests[:] = [r for r in payload._requests if id(r) in self._in_flight]

    async def _serve(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        if not self.forget_requests:
            self.requests_log.append((request.method.value, request.url.path, dict(request.params)))
            self.headers_log.append((request.url.path, dict(request.headers)))
        if request.url.path == ACCESS_REVIEWS and request.method.value == "POST":
            return self._review(request.data)
        if request.resource is not None and request.subresource in (None, "status", "scale"):
            if request.action == enums.action.CREATE and isinstance(request.data, dict):
                self.stamp(request.data)
            elif request.action == enums.action.UPDATE and isinstance(request.data, dict):
                before = self._current(request)
                if before is not None and _has_null(request.data):
                    merged = merge_patch(before, request.data)
                    response = await self._handle_merged(request, merged)
                    if response is not None:
                        return response
                meta = request.data.setdefault("metadata", {})
                meta["resourceVersion"] = self.next_version()
                if request.subresource in (None, "scale") and "spec" in request.data:
                    current = self._current(request)
                    if current is not None:
                        meta["generation"] = (
                            int((current.get("metadata") or {}).get("generation", 1)) + 1
                        )
            elif request.action == enums.action.DELETE and request.name is not None:
                key = self._object_key(request)
                if key in self.objects and not self.objects[key].deleted:
                    self.objects[key].patch({"metadata": {"resourceVersion": self.next_version()}})
        return await super()._handle(request)

    def _review(self, review: Any) -> aiohttp.web.StreamResponse:
        """A ``SelfSubjectAccessReview`` answered as an API server does, from ``denied``."""
        if not isinstance(review, dict):
            return aiohttp.web.json_response({"message": "not a review"}, status=400)
        asked = ((review.get("spec") or {}).get("resourceAttributes")) or {}
        key = (asked.get("group", ""), asked.get("resource", ""), asked.get("verb", ""))
        allowed = key not in self.denied
        answer = {**review, "status": {"allowed": allowed, "denied": not allowed}}
        return aiohttp.web.json_response(answer, status=201)

    async def _handle_merged(
        self, request: rendering.Request, merged: Obj
    ) -> aiohttp.web.StreamResponse | None:
        """A patch with nulls: let kmock apply it, then keep the RFC 7386 result instead."""
        merged.setdefault("metadata", {})["resourceVersion"] = self.next_version()
        request.data.setdefault("metadata", {})["resourceVersion"] = merged["metadata"][
            "resourceVersion"
        ]
        response = await super()._handle(request)
        self.objects[self._object_key(request)].history[-1] = ObjectVersion(merged)
        return response

    @staticmethod
    def _object_key(request: rendering.Request) -> tuple[kmock.resource, str | None, str]:
        assert request.resource is not None
        assert request.name is not None
        return request.resource, request.namespace, request.name

    def _current(self, request: rendering.Request) -> Obj | None:
        key = self._object_key(request)
        if key in self.objects and not self.objects[key].deleted:
            return dict(self.objects[key].raw)
        return None

    def _all(self, request: rendering.Request) -> list[Obj]:
        found = []
        for (resource, namespace, _name), obj in self.objects.items():
            if resource != request.resource or obj.deleted:
                continue
            if request.namespace is not None and namespace != request.namespace:
                continue
            found.append(obj.raw)
        return found

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        """Pages as the API server serves them: the first page selects and orders, and the
        pages that follow are cut from that same snapshot, as a real list is consistent at
        the first page's resource version. Keeping the snapshot also makes paging through
        150,000 pods linear rather than quadratic, which the benchmarks need."""
        if request.resource not in self._get_resources():
            raise k8s.KubernetesResourceNotFoundError()  # as kmock's own list answers
        params = dict(request.params)
        start = 0
        if params.get("continue"):
            token = json.loads(base64.urlsafe_b64decode(params["continue"]))
            if self._expire_next:
                self._expire_next = False
                token["epoch"] = -1
            snapshot = self._snapshots.get(token.get("snapshot", ""))
            if (
                token["epoch"] != self._token_epoch
                or time.time() - token["at"] > self.continue_ttl_s
                or snapshot is None
            ):
                raise _gone(
                    "The provided continue parameter is too old to display a consistent list."
                )
            snapshot_id, (items, list_rv) = token["snapshot"], snapshot
            start = int(token["offset"])
        else:
            items = sorted((o for o in self._all(request) if selected(o, params)), key=_key)
            snapshot_id, list_rv = uuid.uuid4().hex, str(self._rv)
        limit = int(params.get("limit") or 0)
        page = items[start : start + limit] if limit else items[start:]
        remaining = len(items) - start - len(page)
        meta: Obj = {"resourceVersion": list_rv}
        if limit and remaining > 0:
            self._snapshots[snapshot_id] = (items, list_rv)
            while len(self._snapshots) > SNAPSHOTS_KEPT:
                self._snapshots.pop(next(iter(self._snapshots)))
            token = {
                "snapshot": snapshot_id,
                "offset": start + len(page),
                "epoch": self._token_epoch,
                "at": time.time(),
            }
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
            meta["remainingItemCount"] = remaining
        else:
            self._snapshots.pop(snapshot_id, None)
        return {"kind": "List", "apiVersion": "v1", "metadata": meta, "items": page}

    async def _serve_watch(self, request: rendering.Request) -> AsyncIterator[rendering.Payload]:
        params = dict(request.params)
        since = int(params.get("resourceVersion") or 0)
        yield b""
        if since and since < self._compacted:
            yield {
                "type": "ERROR",
                "object": {
                    "kind": "Status",
                    "code": 410,
                    "reason": "Expired",
                    "message": f"too old resource version: {since} ({self._compacted})",
                },
            }
            return
        async for event in self._events(request, params, floor=since, replay=not since):
            yield event

    async def _events(
        self, request: rendering.Request, params: dict[str, str], floor: int, replay: bool
    ) -> AsyncIterator[Obj]:
        if replay:
            for obj in sorted(self._all(request), key=_key):
                if selected(obj, params):
                    yield {"type": "ADDED", "object": obj}
        assert request.resource is not None
        # The bus is read by a task of its own: waiting on it with a timeout (for bookmarks)
        # must not cancel the bus's own iterator.
        queue: asyncio.Queue[Obj | None] = asyncio.Queue()

        async def relay(bus: Any) -> None:
            async for event in bus:
                await queue.put(event)

        relaying = asyncio.create_task(relay(self._buses[request.resource]))
        bookmarks = params.get("allowWatchBookmarks") == "true"
        self._watches.add(queue)
        try:
            while True:
                try:
                    event = await asyncio.wait_for(
                        queue.get(), self.bookmark_every_s if bookmarks else None
                    )
                except TimeoutError:
                    yield {
                        "type": "BOOKMARK",
                        "object": {
                            "kind": "Bookmark",
                            "metadata": {"resourceVersion": str(self._rv)},
                        },
                    }
                    continue
                if event is None:
                    return  # end_watches()
                obj = event.get("object") or {}
                meta = obj.get("metadata") or {}
                if request.namespace is not None and meta.get("namespace") != request.namespace:
                    continue
                if int(meta.get("resourceVersion") or 0) <= floor or not selected(obj, params):
                    continue
                yield event
        finally:
            self._watches.discard(queue)
            relaying.cancel()

    def _stored(self, request: rendering.Request) -> Object | None:
        """The stored object a request names, looked up by its key. kmock finds it by
        scanning every stored object, which at 150,000 pods is 60 ms a request: the
        benchmarks change a hundred pods a second."""
        if request.resource is None or request.name is None:
            return None
        key = self._object_key(request)
        if key not in self.objects:  # kmock's store is a view with no ``get`` of its own
            return None
        found: Object = self.objects[key]
        return found

    async def _serve_fetch(self, request: rendering.Request) -> rendering.Payload:
        if request.subresource == "scale":
            return self._scale(await super()._serve_fetch(request))
        if request.subresource == "log":
            return await self._serve_log(request)
        found = self._stored(request) if request.subresource is None else None
        if found is not None:
            if found.deleted:
                raise k8s.KubernetesObjectNotFoundError()
            raw: Obj = found.raw
            return raw
        return await super()._serve_fetch(request)

    async def _serve_update(self, request: rendering.Request) -> rendering.Payload:
        stored = self._stored(request) if request.subresource in (None, "status") else None
        if stored is not None:
            left: Obj = stored.last.raw  # as kmock answers: the state the update left
            return left
        found = await super()._serve_update(request)
        return self._scale(found) if request.subresource == "scale" else found

    @staticmethod
    def _scale(obj: Any) -> Obj:
        meta = obj.get("metadata") or {}
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {k: meta.get(k) for k in ("name", "namespace", "resourceVersion", "uid")},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0)},
        }

    async def _serve_log(self, request: rendering.Request) -> rendering.Payload:
        key = (request.namespace or "", request.name or "")
        if self._current(request) is None:
            raise k8s.KubernetesObjectNotFoundError()
        lines = self._logs[key]
        tail = request.params.get("tailLines")
        start = max(0, len(lines) - int(tail)) if tail is not None else 0
        show = _LogView(
            timestamps=request.params.get("timestamps") == "true",
            since=_since_time(request.params.get("sinceTime")),
        )
        if request.params.get("follow") != "true":
            return b"".join(show(entry) for entry in lines[start:])
        return self._follow_log(key, start, show)

    async def _follow_log(
        self, key: tuple[str, str], start: int, show: _LogView
    ) -> AsyncIterator[bytes]:
        sent = start
        yield b""
        while True:
            lines = self._logs[key]
            while sent < len(lines):
                yield show(lines[sent])
                sent += 1
            if key in self._log_closed:
                return
            self._log_changed.clear()
            await self._log_changed.wait()


def _since_time(value: str | None) -> datetime.datetime | None:
    """``sinceTime`` as the API server reads it: RFC 3339, whole seconds."""
    if value is None:
        return None
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)


@attrs.frozen
class _LogView:
    """How one request wants a pod's log lines."""

    timestamps: bool
    since: datetime.datetime | None

    def __call__(self, entry: tuple[datetime.datetime, str]) -> bytes:
        at, line = entry
        if self.since is not None and at < self.since:
            return b""
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z " if self.timestamps else ""
        return f"{stamp}{line}\n".encode()


class ApiServer:
    """An emulator on a real port that can go away and come back on that same port."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.port: int | None = None
        self._server: kmock.Server | None = None

    @property
    def url(self) -> str:
        assert self.port is not None, "never started"
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Serve; on the port of the last start if there was one (SO_REUSEADDR lets it be
        bound again at once). Another process could take the port in between: retried."""
        for attempt in range(50):
            server = kmock.Server(self.emulator, port=self.port)
            try:
                await server.__aenter__()
            except OSError:
                if attempt == 49:
                    raise
                await asyncio.sleep(0.1)
                continue
            self._server, self.port = server, server.port
            return

    async def stop(self) -> None:
        """Die: stop listening (connections are refused), reset every open connection
        (watches included), then let go of the rest."""
        server, self._server = self._server, None
        assert server is not None, "not serving"
        runner = server.server.runner
        assert runner is not None
        assert runner.server is not None
        for site in list(runner.sites):
            await site.stop()
        for connection in runner.server.connections:
            if connection.transport is not None:
                connection.transport.abort()
        await server.__aexit__(None, None, None)

    async def __aenter__(self) -> ApiServer:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._server is not None:
            await self.stop()


def items(emulator: Emulator, resource: str, namespace: str | None = None) -> Iterable[Obj]:
    """What the emulator stores for a resource, for assertions."""
    for (res, ns, _name), obj in emulator.objects.items():
        if (
            str(res) == str(kmock.resource(resource))
            and not obj.deleted
            and (namespace is None or ns == namespace)
        ):
            yield obj.raw
