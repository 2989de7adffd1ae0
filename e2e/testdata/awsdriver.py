# awsdriver.py: runs many aws CLI (version 2) commands in one process, for
# the e2e tests (the CLI takes about a second to start; a command in a
# started one, a few milliseconds). It reads JSON lines {"argv": [...]},
# the arguments after `aws`, on stdin and answers each with a JSON line
# {"rc", "stdout", "stderr"}: what `aws ARGV...` exits with and prints.
# The environment (credentials, region, endpoint) is the process's own.
# Run with Debian's /usr/bin/python3, the awscli package's interpreter.
import contextlib
import io
import json
import os
import sys

os.environ.setdefault("AWS_PAGER", "")
os.environ.setdefault("COLUMNS", "80")
from awscli.clidriver import AWSCLIEntryPoint, create_clidriver  # noqa: E402

sys.argv[0] = "aws"  # the name usage messages give
driver = create_clidriver()
agent = driver.session.user_agent_extra
for line in sys.stdin:
    argv = json.loads(line)["argv"]
    out, err = io.StringIO(), io.StringIO()
    # The binary's entry point, on a driver made once: each command starts
    # from the same user agent, which the entry point appends to.
    driver.session.user_agent_extra = agent
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = AWSCLIEntryPoint(driver).main(argv)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 255
    print(json.dumps({"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}), flush=True)
