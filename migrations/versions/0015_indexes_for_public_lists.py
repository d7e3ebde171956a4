"""indexes for the public lists: the register's order and the accepted partnerships that
/partnerships reads (the reports list has ix_progress_report_status_published, 0012)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 02:58:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_register', ['status', 'name_key', 'id'], unique=False)
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.create_index('ix_partnership_status_commitment',
                              ['status', 'commitment_id', 'organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_index('ix_partnership_status_commitment')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index('ix_organisation_register')
