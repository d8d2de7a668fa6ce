"""What the pages share: a page of a list (the API's paging, as ``?page=``)."""
from flask import request
from flask_smorest.pagination import PaginationParameters

PAGE_SIZE = 20


def page_parameters(page_size=PAGE_SIZE):
    """The ``?page=`` of this request as the services' pagination parameters (1 if absent or
    not a page number)."""
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and 0 < len(page) < 7 else 1
    return PaginationParameters(max(number, 1), page_size)


def pager(parameters):
    """{page, pages, previous, next} for the template's "previous / next" links."""
    count = parameters.item_count or 0
    pages = max(1, -(-count // parameters.page_size))
    return {"page": parameters.page, "pages": pages,
            "previous": parameters.page - 1 if parameters.page > 1 else None,
            "next": parameters.page + 1 if parameters.page < pages else None}
