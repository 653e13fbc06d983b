"""Every Python test is bounded in time (conftest.py): a test that blocks past its limit fails, naming it."""

import os

pytest_plugins = ["pytester"]

HERE = os.path.dirname(os.path.abspath(__file__))


def test_a_test_blocked_on_a_silent_pipe_fails_at_its_limit(pytester):
    with open(os.path.join(HERE, "conftest.py")) as f:
        pytester.makeconftest(f.read())
    pytester.makepyfile("""
        import os
        import pytest

        @pytest.mark.limit(1)
        def test_reads_a_node_that_never_answers():
            r, w = os.pipe()
            os.read(r, 1)  # as readline() on a hung node's stdout: blocks for ever without the limit
        """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*TestTimeLimit*test_reads_a_node_that_never_answers ran past its limit of 1 s*"])
