"""The API against its own OpenAPI document, with schemathesis: generated requests (valid
and invalid) to every operation, in-process through WSGI, with public and private data
in the database. No server error, no status code or response the document does not
describe, no invalid parameter accepted.

The document only depends on the code, so it is read once from an app built here; the
requests go to the suite's app (`app=`), whose database holds the test's data.
(schemathesis.pytest.from_fixture does not work with pytest 9: it reads a private
attribute pytest no longer has.)
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from charter import create_app
from tests.test_api_data import build

schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))


@schema.parametrize()
@settings(max_examples=15, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, app, world):
    if not getattr(world, "_api_data", None):  # once per operation, not once per example
        world._api_data = build(world)
    case.call_and_validate(app=app)
