"""Every guest test in testsuites/guest/tests on every selected engine that
its `engines:` line names; judged by guestlib.judge."""
import pytest

import guestlib
from conftest import build_or_fail


@pytest.mark.guest
def test_guest(guest_case, request):
    engine, test = guest_case
    if test.errors:
        pytest.fail("%s: bad metadata: %s" % (test.source, "; ".join(test.errors)),
                    pytrace=False)
    if engine not in test.engines:
        pytest.skip("%s is not in the test's engines: line (%s)"
                    % (engine, " ".join(test.engines)))
    vanderpool = request.config.getoption("--vanderpool")
    why = guestlib.engine_missing(engine, vanderpool)
    if why:
        pytest.skip(why)
    build_or_fail(request.config, [guestlib.image_for(engine, test)])
    run = guestlib.run(engine, test, vanderpool)
    verdict = guestlib.judge(test, run)
    if verdict.problems:
        pytest.fail(guestlib.describe_failure(test, run, verdict), pytrace=False)
    if verdict.skipped:
        pytest.skip("every check skipped: " + verdict.skipped)
