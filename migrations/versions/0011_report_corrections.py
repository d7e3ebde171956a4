"""report corrections: a lead's correction of a published report waits for a coordinator
when the cycle reviews reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 02:31:33.852666

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'returned', 'published', name='correction_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('lived_experience_reflection', sa.Text(), nullable=False),
    sa.Column('co_produced_by', sa.Text(), nullable=False),
    sa.Column('change_note', sa.Text(), nullable=False),
    sa.Column('based_on_revision', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_report_correction_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['report_id'], ['progress_report.id'], name=op.f('fk_report_correction_report_id_progress_report')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user_account.id'], name=op.f('fk_report_correction_submitted_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_correction'))
    )
    with op.batch_alter_table('report_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_correction_report_id'), ['report_id'], unique=False)



def downgrade():
    with op.batch_alter_table('report_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_correction_report_id'))

    op.drop_table('report_correction')
