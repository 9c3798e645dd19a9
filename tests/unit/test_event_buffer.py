"""The event hub's numbering and buffer: what a reconnecting client is sent, or told."""

from __future__ import annotations

from asgard.events import Audience, Event, EventHub, Subscription
from asgard.models import Account

TEAM_A = Account(id=1, name="a", namespace="a")
TEAM_B = Account(id=2, name="b", namespace="b")


def event(item: str) -> Event:
    return Event(kind="app", cluster="c1", id=item, change="added", object={"id": item})


def drained(subscription: Subscription) -> list[str]:
    found = []
    while not subscription.queue.empty():
        queued = subscription.queue.get_nowait()
        assert queued is not None
        found.append(queued.id)
    return found


async def test_a_client_that_reconnects_is_sent_only_its_accounts_missed_events() -> None:
    hub = EventHub()
    hub.publish(Audience("c1", "a"), [event("one")])
    seen = hub.last_id()
    hub.publish(Audience("c1", "b"), [event("theirs")])
    hub.publish(Audience("c1", "a"), [event("two"), event("three")])
    async with hub.subscribe(TEAM_A, seen) as subscription:
        assert not subscription.resync
        assert drained(subscription) == ["two", "three"]
    async with hub.subscribe(TEAM_A, hub.last_id()) as subscription:
        assert not subscription.resync
        assert drained(subscription) == []


async def test_ids_the_buffer_cannot_answer_ask_for_a_resync() -> None:
    hub = EventHub(buffer_limit=3)
    hub.publish(Audience("c1", "a"), [event(str(n)) for n in range(5)])
    epoch = hub.epoch
    for given in (f"{epoch}-1", f"{epoch}-99", f"other-{3}", "", "x-y", f"{epoch}-"):
        async with hub.subscribe(TEAM_A, given) as subscription:
            assert subscription.resync, given
            assert drained(subscription) == []
    async with hub.subscribe(TEAM_A, f"{epoch}-2") as subscription:  # the oldest kept is 3
        assert not subscription.resync
        assert drained(subscription) == ["2", "3", "4"]


async def test_without_an_id_nothing_is_replayed() -> None:
    hub = EventHub()
    hub.publish(Audience("c1", "a"), [event("old")])
    async with hub.subscribe(TEAM_A) as subscription:
        assert not subscription.resync
        assert drained(subscription) == []
        hub.publish(Audience("c1", "a"), [event("new")])
        assert drained(subscription) == ["new"]
        assert hub.event_id(event("x")) == f"{hub.epoch}-0"


async def test_a_page_rendered_a_moment_ago_is_resynced_only_when_events_came_after_it() -> None:
    """What nobody followed cannot be told: a client that lost its stream is asked to read
    again; a page just rendered only when events came after its render."""
    hub = EventHub()

    async def unfollowed(_account: Account, _listening: bool) -> bool:
        return False  # the caches had to load what the account listens to

    hub.on_interest(unfollowed)
    hub.publish(Audience("c1", "a"), [event("one")])
    rendered = hub.last_id()
    async with hub.subscribe(TEAM_A, rendered, rendered=True) as subscription:
        assert not subscription.resync, "nothing came after the render"
    async with hub.subscribe(TEAM_A, rendered) as subscription:
        assert subscription.resync, "a stream lost for a while: not told"
    hub.publish(Audience("c1", "b"), [event("theirs")])
    async with hub.subscribe(TEAM_A, rendered, rendered=True) as subscription:
        assert subscription.resync, "events came after the render"
