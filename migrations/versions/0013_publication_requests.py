"""publication requests: a publication asked for and not yet done, for the task queue

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 11:13:26.851249

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('publication_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('approved', 'submitted', 'corrected', 'correction', name='publication_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'failed', name='publication_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('correction_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('lived_experience_reflection', sa.Text(), nullable=True),
    sa.Column('co_produced_by', sa.Text(), nullable=True),
    sa.Column('change_note', sa.Text(), nullable=False),
    sa.Column('publish_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['correction_id'], ['report_correction.id'], name=op.f('fk_publication_request_correction_id_report_correction')),
    sa.ForeignKeyConstraint(['report_id'], ['progress_report.id'], name=op.f('fk_publication_request_report_id_progress_report')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_publication_request_requested_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_request')),
    sa.UniqueConstraint('report_id', name=op.f('uq_publication_request_report_id'))
    )
    with op.batch_alter_table('publication_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_request_state'), ['state'], unique=False)



def downgrade():
    with op.batch_alter_table('publication_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_request_state'))

    op.drop_table('publication_request')
