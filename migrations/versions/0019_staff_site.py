"""your site: staff_user.location_id, the site Today and Cohorts show them

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 18:40:00

A coordinator works at one site; at ten times the demo Today listed every site's
thirty group sessions and two hundred roster lines. Null means every site.
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("location_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_staff_user_location_id_location", "location",
                                 ["location_id"], ["id"], ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_constraint("fk_staff_user_location_id_location", type_="foreignkey")
        batch.drop_column("location_id")
