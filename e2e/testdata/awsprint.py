# awsprint.py ENDPOINT: reads JSON lines {"name", "data", "output"} on
# stdin and prints, for each, what the real aws CLI (version 2) prints for
# `aws kms list-aliases --query '`DATA`' --output OUTPUT`: a JSON line
# {"name", "output", "rc", "stdout", "stderr"}. The query is a JMESPath
# literal, so the answer of the endpoint does not matter: only the CLI's
# printers do. One driver serves every case (the CLI takes ~1 s to start).
# Run by e2e/printers_test.go with Debian's /usr/bin/python3 (the awscli
# package's interpreter).
import contextlib
import io
import json
import os
import sys

os.environ.setdefault("AWS_ACCESS_KEY_ID", "x")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "y")
os.environ.update(
                  AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="",
                  AWS_CONFIG_FILE="/dev/null",
                  AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                  AWS_MAX_ATTEMPTS="1", COLUMNS="80")
from awscli.clidriver import create_clidriver  # noqa: E402

driver = create_clidriver()
for line in sys.stdin:
    case = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = driver.main(["--endpoint-url", sys.argv[1], "kms", "list-aliases",
                              "--query", "`" + case["data"] + "`",
                              "--output", case["output"]])
    except SystemExit as e:
        rc = e.code
    print(json.dumps({"name": case["name"], "output": case["output"], "rc": rc,
                      "stdout": out.getvalue(), "stderr": err.getvalue()}), flush=True)
