"""Render the OpenAPI document as reStructuredText, one section per tag."""

from __future__ import annotations

from typing import Any


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array" and "items" in schema:
        return f"list of {_schema_name(schema['items'])}"
    if "anyOf" in schema:
        return " or ".join(_schema_name(s) for s in schema["anyOf"])
    return str(schema.get("type", "object"))


def _escape(text: str) -> str:
    return text.replace("*", "\\*").replace("|", "\\|")


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        lines.append(f"   * - {_escape(row[0]) or ' '}")
        lines += [f"     - {_escape(cell) or ' '}" for cell in row[1:]]
    return [*lines, ""]


def _operation(path: str, method: str, op: dict[str, Any]) -> list[str]:
    title = f"{method.upper()} {path}"
    lines = [title, "~" * len(title), "", _escape(op.get("summary", "")), ""]
    if op.get("description"):
        lines += [_escape(line) for line in op["description"].splitlines()] + [""]
    if op.get("security") == []:
        lines += ["*No credentials needed.*", ""]
    params = [
        (
            p["name"],
            p["in"],
            "yes" if p.get("required") else "no",
            _schema_name(p.get("schema", {})),
            p.get("description", ""),
        )
        for p in op.get("parameters", [])
    ]
    if params:
        lines += _table(params, ("parameter", "in", "required", "type", "meaning"))
    body = op.get("requestBody", {}).get("content", {})
    if body:
        kinds = ", ".join(f"``{media}``" for media in body)
        schema = _schema_name(next(iter(body.values()))["schema"])
        lines += [f"Body: **{schema}** ({kinds}).", ""]
    responses = []
    for status, answer in op.get("responses", {}).items():
        content = answer.get("content", {})
        shape = ", ".join(f"{_schema_name(c['schema'])} ({m})" for m, c in content.items())
        responses.append((status, answer.get("description", ""), shape))
    lines += _table(responses, ("status", "meaning", "body"))
    return lines


def _model(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [name, "~" * len(name), ""]
    if schema.get("description"):
        lines += [_escape(line) for line in schema["description"].splitlines()] + [""]
    required = set(schema.get("required", []))
    rows = [
        (
            field,
            _schema_name(spec) if spec else "",
            "yes" if field in required else "no",
            spec.get("description", ""),
        )
        for field, spec in schema.get("properties", {}).items()
    ]
    if rows:
        lines += _table(rows, ("field", "type", "required", "meaning"))
    if "enum" in schema:
        lines += ["One of: " + ", ".join(f"``{v}``" for v in schema["enum"]), ""]
    return lines


def render(document: dict[str, Any]) -> str:
    lines = [
        "HTTP API",
        "========",
        "",
        "Generated from the OpenAPI document the service itself serves at ``/openapi.json``",
        "(a copy: `openapi.json <openapi.json>`_). Errors always come as",
        '``{"errors": [{"msg", "field", "cluster"}]}``.',
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            by_tag.setdefault(op["tags"][0], []).append((path, method, op))
    for tag, ops in by_tag.items():
        heading = tag.capitalize()
        lines += [heading, "-" * len(heading), ""]
        for path, method, op in ops:
            lines += _operation(path, method, op)
    lines += ["Models", "------", ""]
    for name, schema in sorted(document["components"]["schemas"].items()):
        lines += _model(name, schema)
    return "\n".join(lines) + "\n"
