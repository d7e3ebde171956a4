"""cached documents: expensive public documents built once and served until their data change

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cached_document',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), nullable=True),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('building_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('build_token', sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_cached_document')),
    )


def downgrade():
    op.drop_table('cached_document')
