"""dashboard sessions name the API key they were made from

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

A session made from a key ends when the key is revoked (the row goes with the key).
Sessions made before did not say their key, so they could outlive it: they are ended
here, and their users log in again once. The table is made anew rather than altered,
which SQLite could not do for a foreign key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _create(*, with_key: bool) -> None:
    key: list[sa.schema.SchemaItem] = []
    if with_key:
        key = [
            sa.Column("key_id", sa.Integer(), nullable=True),
            sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], ondelete="CASCADE"),
        ]
    op.create_table(
        "ui_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        *key,
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_ui_sessions_user_id", "ui_sessions", ["user_id"])
    op.create_index("ix_ui_sessions_expires_at", "ui_sessions", ["expires_at"])
    if with_key:
        op.create_index("ix_ui_sessions_key_id", "ui_sessions", ["key_id"])


def _drop(*, with_key: bool) -> None:
    if with_key:
        op.drop_index("ix_ui_sessions_key_id", table_name="ui_sessions")
    op.drop_index("ix_ui_sessions_expires_at", table_name="ui_sessions")
    op.drop_index("ix_ui_sessions_user_id", table_name="ui_sessions")
    op.drop_table("ui_sessions")


def upgrade() -> None:
    _drop(with_key=False)
    _create(with_key=True)


def downgrade() -> None:
    _drop(with_key=True)
    _create(with_key=False)
