"""Driving the pages with the test client: their form key, a login."""
import re

from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path="/login"):
    """The form key a page's form carries (from this client's session)."""
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, (path, page.status_code)
    return found.group(1)


def post_form(client, path, data, form_page=None, **kwargs):
    """POST ``data`` to ``path`` as the page's form would, with its form key."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def log_in(client, user, password=PASSWORD):
    response = post_form(client, "/login", {"login": user.email or user.phone,
                                            "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def text(response):
    return response.get_data(as_text=True)
