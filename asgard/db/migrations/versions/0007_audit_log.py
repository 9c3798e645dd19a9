"""audit log

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_audit_log_at": ["at"],
    "ix_audit_log_account_id_id": ["account_id", "id"],
    "ix_audit_log_user_id_id": ["user_id", "id"],
    "ix_audit_log_cluster_id": ["cluster", "id"],
    "ix_audit_log_resource_action_id": ["resource", "action", "id"],
}
"""One per filter of ``GET /audit``, each ending in the id the list is ordered by; ``at``
serves ``since``/``until`` and the retention's deletes."""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("cluster", sa.String(length=63), nullable=True),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=300), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "audit_log", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="audit_log")
    op.drop_table("audit_log")
