"""Schemathesis against the OpenAPI schema: generated requests never cause a 500."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from straits.web import Settings, create_app

# tiny caps: accepted runs are short, so the background worker stays light
app = create_app(Settings(max_replications=2, max_horizon_days=0.25, max_upload_bytes=4096,
                          max_queued_runs=5, allowed_hosts=["testserver"],
                          check_workers=1))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                             content_type_conformance,
                                             response_schema_conformance])
