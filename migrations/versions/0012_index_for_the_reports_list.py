"""index for the reports list: published reports by publication date (with the keys
the list joins on, so that the index alone answers its total)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 07:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.create_index('ix_progress_report_status_published',
                              ['status', 'published_at', 'id', 'organisation_id', 'cycle_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_report_status_published')
