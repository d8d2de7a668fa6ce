"""One page of a SELECT, with the total flask-smorest puts in X-Pagination."""
from sqlalchemy import func, select

from ecolife.extensions import db


def paginate(query, pagination_parameters):
    """Run ``query`` for the requested page; sets the item count for the header."""
    pagination_parameters.item_count = db.session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())
    )
    page, size = pagination_parameters.page, pagination_parameters.page_size
    offset = (page - 1) * size
    if offset >= pagination_parameters.item_count:
        # Past the end: nothing to fetch, and an offset as large as page=10**20 makes would be
        # an out-of-range error in the database, not an empty page.
        return []
    return db.session.scalars(query.limit(size).offset(offset)).all()
