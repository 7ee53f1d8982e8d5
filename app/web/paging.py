"""The one pager: a paged list hands its template a paging.Page (rows, total, page, per_page) and the
template draws {{ pager(page) }} from _paging.html. page_url() builds the pager's links.

Lists whose service returns another shape are adapted here, until the service returns a Page itself."""

from flask import request, url_for

from app.services.shared.paging import Page


def page_url(number: int, param: str = "page", endpoint: str | None = None) -> str:
    """The list being shown at page `number`: the same endpoint (or `endpoint`, for a list drawn by a
    POST) and path, the same query (its filters, every value of each), only `param` changed.
    Arguments named like url_for's own (_external, _scheme, _anchor, ...) are never passed on."""
    values: dict = {param: number}
    for name, items in request.args.lists():
        if name != param and not name.startswith("_"):
            values[name] = items
    values.update(request.view_args or {})
    target = endpoint or request.endpoint
    if target is None:  # a request no route matched (an error page) has no list to page through
        raise RuntimeError("page_url() needs an endpoint outside a routed request")
    return url_for(target, **values)


def of_matrix(grid) -> Page:
    """A paged progress matrix (oversight.matrix.Matrix) as a Page of the units it shows: all, or those
    drilled down to."""
    shown = grid.total if grid.matched is None else grid.matched
    return Page(grid.rows, shown, grid.page, grid.per_page or max(shown, 1))
