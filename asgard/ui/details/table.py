"""The one route table every detail page module adds to, mounted by ``setup_ui``."""

from __future__ import annotations

from aiohttp import web

__all__ = ["routes"]

routes = web.RouteTableDef()
